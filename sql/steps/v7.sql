-- Version 7: the change feed (changed_secrets and its token path, for
-- `bridge watch`) and the rollout report (secret_rollout). Functions only:
-- each name is one lookup on vault.secrets' unique name index, and the
-- audit log's covering per-name index answers the rollout.
DO $step$
DECLARE
  v_version CONSTANT integer := 7;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'change feed changed_secrets (and with a token) for bridge watch; rollout report secret_rollout');
END
$step$;
