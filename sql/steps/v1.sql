-- Version 1: the audit log as the first release created it, with that
-- release's access_type list (history: never edit an applied step). On a
-- database set up by that release the table exists and this step only
-- records it.
DO $step$
DECLARE
  v_version CONSTANT integer := 1;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE IF NOT EXISTS public.vault_access_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret_id     uuid,
    secret_name   text,
    accessed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    "session_user" text NOT NULL DEFAULT SESSION_USER,
    accessed_by   jsonb,
    client        jsonb,
    access_type   text NOT NULL,
    success       boolean NOT NULL,
    error_message text,
    CONSTRAINT vault_access_log_access_type_check CHECK (access_type IN
      ('store', 'retrieve', 'rotate', 'delete', 'list', 'resolve'))
  );
  CREATE INDEX IF NOT EXISTS vault_access_log_accessed_at_idx
    ON public.vault_access_log (accessed_at);
  CREATE INDEX IF NOT EXISTS vault_access_log_secret_name_idx
    ON public.vault_access_log (secret_name, accessed_at);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'audit log public.vault_access_log');
END
$step$;
