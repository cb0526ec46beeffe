"""Network adapters: translate network events into core events and execute core actions."""
