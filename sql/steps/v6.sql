-- Version 6: the secret lifecycle. vault_bridge.secret_meta holds, per Vault
-- secret id and never with a value, its type, rotation interval, expiry,
-- when its value last changed and the outcome of the last provider test.
-- Secrets that exist become generic, with rotated_at their updated_at (the
-- best date there is). The access_type CHECK is rebuilt for 'test' and
-- 'policy'. Audit rows gain host as a stored column, and the per-name index
-- becomes a covering one, so status, use and alerts read the index only
-- (one index replaces the other: a resolve's insert maintains as many as
-- before). set_secret takes p_meta and list_secrets_usage gives way to
-- list_secrets_status: a changed signature needs the old one dropped, or
-- PostgREST could not choose between them.
DO $step$
DECLARE
  v_version CONSTANT integer := 6;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE vault_bridge.secret_meta (
    secret_id     uuid PRIMARY KEY,
    type          text NOT NULL DEFAULT 'generic',
    rotate_every  interval CONSTRAINT secret_meta_rotate_every_check CHECK (rotate_every > interval '0'),
    expires_at    timestamptz,
    rotated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    checked_at    timestamptz,
    check_status  text,
    check_message text,
    CONSTRAINT secret_meta_checked_check CHECK ((checked_at IS NULL) = (check_status IS NULL))
  );
  EXECUTE pg_catalog.format(
    'ALTER TABLE vault_bridge.secret_meta ADD CONSTRAINT secret_meta_type_check CHECK (type = ANY (%L::text[]))',
    vault_bridge.secret_types());
  EXECUTE pg_catalog.format(
    'ALTER TABLE vault_bridge.secret_meta ADD CONSTRAINT secret_meta_check_status_check CHECK (check_status = ANY (%L::text[]))',
    vault_bridge.check_statuses());
  INSERT INTO vault_bridge.secret_meta (secret_id, type, rotated_at)
  SELECT s.id, 'generic', s.updated_at FROM vault.secrets AS s;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  ALTER TABLE public.vault_access_log ADD COLUMN host text GENERATED ALWAYS AS (client ->> 'host') STORED;
  DROP INDEX IF EXISTS public.vault_access_log_secret_name_idx;
  CREATE INDEX vault_access_log_secret_name_idx ON public.vault_access_log (secret_name, accessed_at)
    INCLUDE (access_type, success, name_count, tenant, token_name, host);
  DROP FUNCTION IF EXISTS public.set_secret(text, text, text);
  DROP FUNCTION IF EXISTS public.list_secrets_usage(text);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'secret lifecycle: types, rotation policy, provider test results; covering audit index with host');
END
$step$;
