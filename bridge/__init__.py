"""OpenClaw exec secret provider backed by Supabase Vault.

Kept import-free: the gateway spawns ``bridge`` at every start and reload, so
anything imported here is paid on every resolve.
"""

__version__ = "0.1.0"

SCHEMA_VERSION = 11
"""The setup.sql schema version this release speaks; ``vault_bridge_version()`` reports the installed one."""
