"""Vault as the source of Edge Function secrets: `bridge edge sync`, `bridge edge status`, and the watcher's sync
of the names that changed ([edge] in config.toml; docs/edge.md)."""
