"""The gateway's config file (``config_file``: networks, event log, policy directory, rooms, bound into an
engine) and ``gateway init``'s starter files (``starter``).

May import: ``gateway.yamlfiles``, ``gateway.policy``, ``gateway.core`` (to build the engine) and
``gateway.store`` (to check the event log's directory); never an adapter.
"""
