-- Version 2: the access_type CHECK is rebuilt in place from
-- vault_bridge.access_types(), which adds 'audit'. Existing rows are
-- re-checked against the new list.
DO $step$
DECLARE
  v_version CONSTANT integer := 2;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'access_type CHECK built from vault_bridge.access_types(), adding audit');
END
$step$;
