"""Room policies and what they point at: the policy model (``model``), finding, layering and checking
policy files (``loader``), what an extending policy weakens (``diff``), the sourced crisis-line directory
(``crisis_lines``) and the words the code writes for moderators (``moderator_text``).

May import: ``gateway.yamlfiles`` and the folding and model parts of ``gateway.detection``; never the core,
the store or anything that does I/O beyond reading its own YAML files.
"""
