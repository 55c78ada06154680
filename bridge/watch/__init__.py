"""`bridge watch`: polls Vault's change feed and has the running gateway reload when a secret it uses changed.

A use case beside resolve: pure scheduling (schedule), OpenClaw's config and
gateway (target), Supabase (vault_io), the reload (reload), the state file and
lock (state), the loop (loop) and the verb (command).
"""
