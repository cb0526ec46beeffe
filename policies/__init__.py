"""Shipped policy data: the default policy, message templates per language and the crisis-line directory."""
