-- Version 3: the admin functions (set_secret, list_secrets_usage,
-- read_access_log, defined in section 10). Their per-name lookups use the
-- (secret_name, accessed_at) index of version 1; failures are rare among
-- audit rows, so "newest failures first" gets a partial index of its own
-- instead of a backward walk over every successful resolve.
DO $step$
DECLARE
  v_version CONSTANT integer := 3;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE INDEX IF NOT EXISTS vault_access_log_failures_idx
    ON public.vault_access_log (accessed_at, id) WHERE NOT success;
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'admin functions set_secret, list_secrets_usage, read_access_log; index on failed accesses');
END
$step$;
