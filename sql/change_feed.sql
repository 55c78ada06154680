CREATE OR REPLACE FUNCTION vault_bridge.changes(p_names text[], p_tenant text, p_allow text[], p_since timestamptz)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- Reads vault.secrets and secret_meta only: names and times, never a
  -- value. Written as probes (= ANY of an array, a lateral by key) so each
  -- name is one index lookup whatever the planner guesses of the names.
  WITH wanted AS MATERIALIZED (
    SELECT w.name, w.vault_name, w.problem FROM vault_bridge.wanted_names(p_names, p_tenant, p_allow) AS w
  ),
  found AS (
    -- An expiry belongs to the value the bridge last left (secret_policies'
    -- rule): a value changed outside the bridge since is not expired.
    SELECT s.name, s.updated_at,
           COALESCE(m.expires_at <= pg_catalog.now()
                    AND NOT vault_bridge.changed_outside(s.updated_at, s.secret, m.vault_updated_at, m.value_digest), false) AS expired
    FROM vault.secrets AS s
    LEFT JOIN LATERAL (SELECT x.expires_at, x.vault_updated_at, x.value_digest FROM vault_bridge.secret_meta AS x
                       WHERE x.secret_id = s.id) AS m ON true
    WHERE s.name = ANY (ARRAY(SELECT w.vault_name FROM wanted AS w WHERE w.problem IS NULL))
  )
  SELECT pg_catalog.jsonb_build_object(
    'now', pg_catalog.now(),
    'changed', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', w.name, 'changed_at', f.updated_at) ORDER BY w.name)
                 FILTER (WHERE f.name IS NOT NULL AND NOT f.expired
                           AND (p_since IS NULL OR f.updated_at > p_since - vault_bridge.change_settle())), '[]'::jsonb),
    'gone', COALESCE(pg_catalog.jsonb_agg(w.name ORDER BY w.name) FILTER (WHERE f.name IS NULL OR f.expired), '[]'::jsonb))
  FROM wanted AS w
  LEFT JOIN found AS f ON f.name = w.vault_name AND w.problem IS NULL
$$;
COMMENT ON FUNCTION vault_bridge.changes(text[], text, text[], timestamptz) IS
  'Internal. The change feed both entry points share: {"now", "changed": [{"name", "changed_at"}], "gone": [names]} for the requested names the caller may ask for. changed: value (or description) changed after p_since less change_settle(), every existing name when p_since is NULL; gone: not in Vault, expired, or not the caller''s to ask for.';

CREATE OR REPLACE FUNCTION public.changed_secrets(p_names text[], p_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF p_names IS NULL OR pg_catalog.cardinality(p_names) > vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('list', NULL, NULL,
      pg_catalog.format('p_names must be an array of at most %s names', vault_bridge.max_names_per_call()), '22023',
      'split the request');
  END IF;
  RETURN vault_bridge.changes(p_names, NULL, NULL, p_since);
END
$$;
REVOKE ALL ON FUNCTION public.changed_secrets(text[], timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.changed_secrets(text[], timestamptz) TO service_role;
COMMENT ON FUNCTION public.changed_secrets(text[], timestamptz) IS
  'service_role only. The change feed `bridge watch` polls: {"now", "changed": [{"name", "changed_at"}], "gone": [names]} for up to vault_bridge.max_names_per_call() names, one indexed lookup each; changed since p_since (a little before it, vault_bridge.change_settle(), so a late commit is not missed), or every existing name when p_since is NULL; gone when deleted or expired. Pass "now" back as p_since. Never a value; not audited, as it reads no value and a fleet polls it every 30 s.';

CREATE OR REPLACE FUNCTION public.secret_rollout(p_name text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_changed timestamptz;
  v_settled timestamptz;
  v_answer jsonb;
BEGIN
  SELECT s.id, s.updated_at INTO v_id, v_changed FROM vault.secrets AS s WHERE s.id = vault_bridge.id_by_name('audit', p_name);
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('audit', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.purge_versions();
  -- A resolve counts as the new value only if it started after the change was seen committed.
  v_settled := vault_bridge.rollout_since(v_id);
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[p_name], ARRAY[NULL::text]);
  -- The secret's successful resolves from usage_window() before its change
  -- on, per gateway (a token, else the host of a project-key caller),
  -- through the covering per-name index.
  WITH logged AS (
    SELECT CASE WHEN l.token_name IS NOT NULL THEN 'token' ELSE 'host' END AS via,
           CASE WHEN l.token_name IS NOT NULL THEN l.tenant || '/' || l.token_name ELSE l.host END AS gateway,
           l.tenant, l.token_name,
           pg_catalog.max(l.accessed_at) FILTER (WHERE l.accessed_at >= v_settled) AS since_change,
           pg_catalog.max(l.accessed_at) FILTER (WHERE l.accessed_at < v_settled) AS before_change
    FROM public.vault_access_log AS l
    WHERE l.secret_name = p_name AND l.success AND l.access_type = 'resolve'
      AND l.accessed_at >= v_changed - vault_bridge.usage_window()
      AND (l.token_name IS NOT NULL OR l.host IS NOT NULL)
      -- `bridge watch`'s own reads of a gateway token (x-bridge-provider bridge-watch) are not the gateway's.
      AND l.client ->> 'provider' IS DISTINCT FROM 'bridge-watch'
    GROUP BY 1, 2, 3, 4
  ), seen AS (
    -- A token revoked or expired can never resolve again: it holds no value to wait for.
    -- A token past its audit budget used since the change is answered but not itemised, so which names it
    -- resolved is not known: it stays pending (never counted on a guess) and says why.
    SELECT g.*, g.token_name IS NOT NULL AND EXISTS (
             SELECT FROM vault_bridge.gateway_tokens AS t
             WHERE t.tenant = g.tenant AND t.name = g.token_name AND t.last_used_at >= v_settled
               AND t.unlogged_calls > 0) AS unitemised
    FROM logged AS g
    WHERE g.since_change IS NOT NULL OR g.token_name IS NULL OR NOT EXISTS (
      SELECT FROM vault_bridge.gateway_tokens AS t
      WHERE t.tenant = g.tenant AND t.name = g.token_name
        AND (t.revoked_at IS NOT NULL OR t.expires_at <= pg_catalog.now()))
  )
  SELECT pg_catalog.jsonb_build_object(
    'name', p_name, 'changed_at', v_changed,
    'updated', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('gateway', g.gateway, 'via', g.via, 'resolved_at', g.since_change)
                 ORDER BY g.gateway) FILTER (WHERE g.since_change IS NOT NULL), '[]'::jsonb),
    'pending', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('gateway', g.gateway, 'via', g.via, 'resolved_at', g.before_change,
                                                                           'unitemised', g.unitemised)
                 ORDER BY g.gateway) FILTER (WHERE g.since_change IS NULL), '[]'::jsonb))
  INTO v_answer
  FROM seen AS g;
  RETURN v_answer;
END
$$;
REVOKE ALL ON FUNCTION public.secret_rollout(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.secret_rollout(text) TO service_role;
COMMENT ON FUNCTION public.secret_rollout(text) IS
  'service_role only. Since the secret last changed (Vault updated_at): {"name", "changed_at", "updated": [{"gateway", "via", "resolved_at"}], "pending": [...]}: the gateways (tenant/token, or the host of a project-key caller) whose resolve started after the change was seen committed (vault_bridge.rollout_since: one that started earlier may have read the old value), and those seen resolving it in vault_bridge.usage_window() before that have not (a revoked or expired token is not pending; a pending token whose calls since are past its audit budget, so not itemised by name, has "unitemised": true). Reads by `bridge watch` itself (provider bridge-watch) count for neither. Purges kept versions past their time. Raises PT404 for an unknown name. Audited as audit.';
