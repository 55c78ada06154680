-- Version 5: the audit log is bounded. Rows gain name_count (a token
-- resolve writes all its failed names as one row); tokens carry the window
-- of their audit budget and what it kept out of the log; read_access_log
-- gains p_before_id for keyset pages. A token of tenant default no longer
-- reaches every Vault secret (the bridge's or not) with a glob made only
-- of * and ?: such a glob is replaced by the names the token has resolved
-- successfully so far, so a working gateway keeps working and gains no name
-- it never read. Names holding * or ? are left out (no ref id holds one,
-- and as a glob they would match more than themselves).
DO $step$
DECLARE
  v_version CONSTANT integer := 5;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  ALTER TABLE public.vault_access_log
    ADD COLUMN name_count bigint NOT NULL DEFAULT 1 CONSTRAINT vault_access_log_name_count_check CHECK (name_count > 0);
  ALTER TABLE vault_bridge.gateway_tokens
    ADD COLUMN log_window_start timestamptz,
    ADD COLUMN log_window_rows integer NOT NULL DEFAULT 0,
    ADD COLUMN unlogged_names bigint NOT NULL DEFAULT 0,
    ADD COLUMN unlogged_calls bigint NOT NULL DEFAULT 0;
  WITH resolved AS (
    SELECT l.token_name, pg_catalog.array_agg(DISTINCT l.secret_name) AS names
    FROM public.vault_access_log AS l
    WHERE l.tenant = 'default' AND l.token_name IS NOT NULL AND l.success AND l.access_type = 'resolve'
      AND l.secret_name !~ '[*?]'
    GROUP BY l.token_name
  )
  UPDATE vault_bridge.gateway_tokens AS t
  SET allow = ARRAY(
    SELECT DISTINCT g.glob
    FROM pg_catalog.unnest(t.allow || COALESCE(r.names, '{}'::text[])) AS g(glob)
    WHERE g.glob !~ '^[*?]+$'
    ORDER BY g.glob)
  FROM vault_bridge.gateway_tokens AS k LEFT JOIN resolved AS r ON r.token_name = k.name
  WHERE k.id = t.id
    AND t.tenant = 'default'
    AND EXISTS (SELECT FROM pg_catalog.unnest(t.allow) AS g(glob) WHERE g.glob ~ '^[*?]+$');
  -- read_access_log takes p_before_id: a changed signature needs a new function.
  DROP FUNCTION IF EXISTS public.read_access_log(timestamptz, text, boolean, integer);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'bounded audit log (name_count, per-token budget, keyset pages); default-tenant tokens name their secrets');
END
$step$;
