"""The safeguarding gateway: one service that watches Matrix rooms and IRC channels under YAML policies.

Packages, from the bottom up (each package's ``__init__`` says what it may import; tests/test_layout.py
checks it):

- ``yamlfiles``: YAML read with the file, line and column of every value, checked collecting every error.
- ``text``: text folded to one canonical form before anything compares it.
- ``policy``: room policies (the model, reading and layering them, their diff), the crisis-line directory,
  the words the moderators read and where the shipped files are.
- ``detection``: whether a message shows a person at risk (rules, learned models, languages), with the
  training scripts and ``gateway eval`` beside it.
- ``core``: the sans-I/O engine: events in, actions out; it opens no socket and reads no clock.
- ``store``: the transcript-free event log and the journal that makes restarts safe (SQLite).
- ``ops``: what operators and moderators read: metrics, the HTTP listener, insight, the report, the digest.
- ``config``: the gateway's config file and ``gateway init``.
- ``runner`` and ``service``: the engine's actions carried out through the adapters, and the assembly.
- ``cli`` and ``demo``: the command line and ``gateway demo``.
- ``files`` and ``failpoints``: owner-only directories for keys and tokens; named crash points for tests.
"""
