COMMENT ON TABLE public.vault_access_log IS
  'One row per secret access through the openclaw-supabase-bridge functions. Never holds a secret value. Readable by service_role only; written only by the SECURITY DEFINER functions.';
COMMENT ON COLUMN public.vault_access_log.accessed_by IS
  'role and sub from request.jwt.claims when the call came through the API; NULL for direct SQL.';
COMMENT ON COLUMN public.vault_access_log.client IS
  'user_agent, host and provider from request headers when present (credentials headers are never copied).';

ALTER TABLE public.vault_access_log ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.vault_access_log FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vault_access_log TO service_role;
REVOKE ALL ON SEQUENCE public.vault_access_log_id_seq FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON COLUMN public.vault_access_log.tenant IS
  'The tenant a gateway token resolved for; NULL for calls made with the project''s secret or service_role key.';
COMMENT ON COLUMN public.vault_access_log.name_count IS
  'How many requested names the row stands for: 1 for an itemised row, every failed name of one token resolve in its one failure row, or the names a token''s audit budget kept out of the log.';
COMMENT ON COLUMN public.vault_access_log.token_name IS
  'The name of the gateway token that resolved (never the token); NULL for calls made with a project key.';
COMMENT ON COLUMN public.vault_access_log.host IS
  'The X-Bridge-Host the call came from (client ->> ''host''), stored so the covering per-name index answers use and alerts alone.';
REVOKE ALL ON TABLE vault_bridge.tenants, vault_bridge.tenant_members, vault_bridge.gateway_tokens, vault_bridge.secret_meta,
  vault_bridge.secret_hosts
  FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON TABLE vault_bridge.secret_hosts IS
  'Per secret name and X-Bridge-Host: when that host first resolved it successfully. Kept by the trigger vault_access_log_hosts on each audit insert (never updated, so a resolve adds at most an index probe per name); read by read_access_alerts for new_host. Holds no value.';
COMMENT ON COLUMN vault_bridge.secret_meta.vault_updated_at IS
  'Vault''s updated_at as the bridge last left it. A later updated_at with another ciphertext (value_digest) is a change made outside the bridge: the secret counts as rotated then (changed_outside).';
COMMENT ON COLUMN vault_bridge.secret_meta.value_digest IS
  'sha256 digest of the Vault ciphertext as the bridge last left it, never of the value: tells a value changed outside the bridge from a description or name edit, which moves updated_at too (changed_outside). NULL where unknown.';
COMMENT ON TABLE vault_bridge.secret_meta IS
  'Per Vault secret id: its type, rotation interval, expiry, when its value last changed (rotated_at) and the last provider test. Never a value; a secret without a row is generic, changed at its Vault updated_at.';
