-- Version 10: usage by day for the dashboard's charts (secret_usage_days,
-- list_secrets_page_usage in sql/dashboard.sql). Functions only: the audit
-- log's covering (secret_name, accessed_at) index of version 6 answers them
-- from the index alone, one range per name.

DO $step$
DECLARE
  v_version CONSTANT integer := 10;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'usage by day for the dashboard''s charts: secret_usage_days, list_secrets_page_usage');
END
$step$;
