"""Room policies and what they point at: the policy model (``model``), finding, layering and checking
policy files (``loader``), what an extending policy weakens (``diff``), the sourced crisis-line directory
(``crisis_lines``), the words the code writes for moderators (``moderator_text``) and where the shipped
files are (``shipped``).

May import: ``gateway.yamlfiles`` and ``gateway.text``; never detection (which reads policies), the core,
the store, or anything that does I/O beyond reading its own YAML files.
"""
