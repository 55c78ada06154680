-- Version 9: status that cannot be made to lie or stall.
--   * vault_bridge.secret_hosts keeps, per secret name and X-Bridge-Host,
--     when that host first resolved it (filled from the audit log here, then
--     kept by a trigger on each insert), so read_access_alerts' new_host
--     check is two index probes per host instead of a walk over the
--     secret's whole history.
--   * secret_meta.vault_updated_at is Vault's updated_at as the bridge last
--     left it: a later one is a change made outside the bridge (Studio,
--     vault.update_secret), seen as a rotation then. A secret whose last
--     recorded change was a bridge policy change (which also moves
--     updated_at, when it sets the description) starts from Vault's value;
--     every other from rotated_at, so a change made outside before this
--     step is seen too.
--   * record_secret_check takes the version (Vault's updated_at) of the
--     value tested, and token_budget keeps part of each token's budget for
--     failures: their old signatures are dropped.
DO $step$
DECLARE
  v_version CONSTANT integer := 9;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE vault_bridge.secret_hosts (
    secret_name text NOT NULL,
    host        text NOT NULL,
    first_at    timestamptz NOT NULL,
    PRIMARY KEY (secret_name, host)
  );
  CREATE INDEX secret_hosts_first_at_idx ON vault_bridge.secret_hosts (first_at);
  CREATE INDEX secret_hosts_secret_first_idx ON vault_bridge.secret_hosts (secret_name, first_at);
  INSERT INTO vault_bridge.secret_hosts (secret_name, host, first_at)
  SELECT l.secret_name, l.host, pg_catalog.min(l.accessed_at)
  FROM public.vault_access_log AS l
  WHERE l.success AND l.access_type = 'resolve' AND l.host IS NOT NULL AND l.secret_name IS NOT NULL
  GROUP BY l.secret_name, l.host;
  ALTER TABLE vault_bridge.secret_meta ADD COLUMN vault_updated_at timestamptz;
  UPDATE vault_bridge.secret_meta AS m
  SET vault_updated_at = CASE WHEN p.secret_id IS NOT NULL THEN s.updated_at ELSE m.rotated_at END
  FROM vault.secrets AS s
  LEFT JOIN (SELECT DISTINCT l.secret_id, l.accessed_at FROM public.vault_access_log AS l
             WHERE l.access_type = 'policy' AND l.success) AS p
    ON p.secret_id = s.id AND p.accessed_at = s.updated_at
  WHERE s.id = m.secret_id;
  UPDATE vault_bridge.secret_meta AS m SET vault_updated_at = m.rotated_at WHERE m.vault_updated_at IS NULL;
  ALTER TABLE vault_bridge.secret_meta ALTER COLUMN vault_updated_at SET NOT NULL;
  DROP FUNCTION IF EXISTS public.record_secret_check(text, text, text);
  DROP FUNCTION IF EXISTS vault_bridge.token_budget(bigint, integer, integer, boolean);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'first-seen hosts per secret for new_host alerts; changes made outside the bridge seen; test verdicts tied to the value''s version; failures keep a share of each token''s audit budget');
END
$step$;
