"""This machine and user: private files, paths, identity, settings, the sealed envelope and the self-checks."""
