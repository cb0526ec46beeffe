"""YAML as volunteers edit it: ``located`` loads a document remembering the file, line and column of every
key and value; ``checker`` reads it typed, collecting every mistake with its place instead of stopping at
the first. The base that both policy files and the config file are read through.

May import: the standard library and PyYAML only.
"""
