"""The pure core: the rules every other part of the bridge follows, stated once.

Nothing here imports anything else of `bridge`, does I/O, or reads a clock it
was not handed: ids and selectors, names and tenants, key shapes and
redaction, the limits OpenClaw and Supabase set, the error tree, durations
and deadlines. Adapters, use cases and the command line all import from here;
an import-linter contract in pyproject.toml keeps it that way.
"""
