"""Text as the gateway compares it: ``folding`` turns a message, a policy's phrase or a name into one
canonical form (case, accents, zero-width and look-alike letters, chat spellings), so that everything
that matches text matches the same form. Stage 1 of detection, and what policies and raid budgets fold
their words with.

May import: the standard library only.
"""
