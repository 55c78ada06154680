CREATE OR REPLACE FUNCTION public.read_access_alerts(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (
  kind text,
  secret text,
  token text,
  host text,
  count bigint,
  first_at timestamptz,
  last_at timestamptz,
  message text
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_since timestamptz := COALESCE(p_since, pg_catalog.now() - interval '24 hours');
BEGIN
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[NULL::text], ARRAY[NULL::text]);
  -- Failures come from the partial index on failed rows. A token call that
  -- fails several names writes one row naming none of them: it counts
  -- toward its token's alert, and toward a name's only when itemised. The
  -- summary row of a token's over-budget calls is no failure; token_budget
  -- keeps token_failure_rows() of every window for failure rows, so a
  -- token's failures cannot be pushed out of the log by its own successes.
  -- A new host is one whose first resolve of the secret (secret_hosts) is
  -- in the period, when another host's first one came earlier.
  RETURN QUERY
    WITH failed AS (
      SELECT l.accessed_at, l.secret_name, l.tenant, l.token_name, l.name_count
      FROM public.vault_access_log AS l
      WHERE NOT l.success AND l.accessed_at >= v_since
        AND l.access_type = ANY (ARRAY['resolve', 'retrieve'])
        AND NOT pg_catalog.starts_with(COALESCE(l.error_message, ''), vault_bridge.unlogged_marker())
    ),
    per_name AS (
      SELECT f.secret_name, f.accessed_at, f.name_count,
             pg_catalog.sum(f.name_count) OVER (PARTITION BY f.secret_name ORDER BY f.accessed_at
               RANGE BETWEEN vault_bridge.alert_failure_window() PRECEDING AND CURRENT ROW) AS in_window
      FROM failed AS f WHERE f.secret_name IS NOT NULL
    ),
    per_token AS (
      SELECT f.tenant || '/' || f.token_name AS token, f.accessed_at, f.name_count,
             pg_catalog.sum(f.name_count) OVER (PARTITION BY f.tenant, f.token_name ORDER BY f.accessed_at
               RANGE BETWEEN vault_bridge.alert_failure_window() PRECEDING AND CURRENT ROW) AS in_window
      FROM failed AS f WHERE f.token_name IS NOT NULL
    ),
    -- Each secret's earliest host is one index probe, then its hosts of the
    -- period one range of the same index: linear in the period's rows. (A
    -- semi-join "some host came earlier" was hashed on the name alone, and
    -- walked a busy secret's whole bucket for every new host.)
    new_hosts AS MATERIALIZED (
      SELECT h.secret_name, h.host, h.first_at
      FROM (SELECT DISTINCT p.secret_name FROM vault_bridge.secret_hosts AS p WHERE p.first_at >= v_since) AS s
      CROSS JOIN LATERAL (SELECT o.first_at FROM vault_bridge.secret_hosts AS o WHERE o.secret_name = s.secret_name
                          ORDER BY o.first_at LIMIT 1) AS e
      JOIN vault_bridge.secret_hosts AS h ON h.secret_name = s.secret_name
      WHERE h.first_at >= v_since AND h.first_at > e.first_at
    ),
    -- Each new host's reads in the period, counted per secret that has a
    -- new host through the covering per-name index (an index-only scan of
    -- that secret's period, once, however many new hosts it has).
    first_reads AS (
      SELECT s.secret_name, l.host, pg_catalog.min(l.accessed_at) AS first_at, pg_catalog.max(l.accessed_at) AS last_at,
             pg_catalog.count(*) AS n
      FROM (SELECT DISTINCT n.secret_name FROM new_hosts AS n) AS s
      CROSS JOIN LATERAL (
        SELECT l.host, l.accessed_at FROM public.vault_access_log AS l
        WHERE l.secret_name = s.secret_name AND l.accessed_at >= v_since AND l.success AND l.host IS NOT NULL
          AND l.access_type = 'resolve'
      ) AS l
      GROUP BY s.secret_name, l.host
    ),
    alerts AS (
      SELECT 'failures'::text AS kind, p.secret_name AS secret, NULL::text AS token, NULL::text AS host,
             pg_catalog.sum(p.name_count)::bigint AS count, pg_catalog.min(p.accessed_at) AS first_at,
             pg_catalog.max(p.accessed_at) AS last_at,
             pg_catalog.format('%s failed accesses to %s, up to %s within %s (more than %s is an alert)',
               pg_catalog.sum(p.name_count), p.secret_name, pg_catalog.max(p.in_window), vault_bridge.shown_interval(vault_bridge.alert_failure_window()),
               vault_bridge.alert_failures()) AS message
      FROM per_name AS p
      GROUP BY p.secret_name
      HAVING pg_catalog.max(p.in_window) > vault_bridge.alert_failures()
      UNION ALL
      SELECT 'failures', NULL, p.token, NULL, pg_catalog.sum(p.name_count)::bigint, pg_catalog.min(p.accessed_at),
             pg_catalog.max(p.accessed_at),
             pg_catalog.format('%s failed accesses with gateway token %s, up to %s within %s (more than %s is an alert)',
               pg_catalog.sum(p.name_count), p.token, pg_catalog.max(p.in_window), vault_bridge.shown_interval(vault_bridge.alert_failure_window()),
               vault_bridge.alert_failures())
      FROM per_token AS p
      GROUP BY p.token
      HAVING pg_catalog.max(p.in_window) > vault_bridge.alert_failures()
      UNION ALL
      SELECT 'new_host', r.secret_name, NULL, r.host, r.n, r.first_at, r.last_at,
             pg_catalog.format('%s was resolved from host %s for the first time; other hosts resolved it before', r.secret_name, r.host)
      FROM first_reads AS r
      JOIN new_hosts AS h ON h.secret_name = r.secret_name AND h.host = r.host
      UNION ALL
      SELECT 'unused_token', NULL, t.tenant || '/' || t.name, NULL,
             pg_catalog.floor(EXTRACT(epoch FROM pg_catalog.now() - COALESCE(t.last_used_at, t.created_at)) / 86400)::bigint,
             t.created_at, t.last_used_at,
             pg_catalog.format('gateway token %s/%s has not been used %s; revoke it if no gateway needs it',
               t.tenant, t.name,
               CASE WHEN t.last_used_at IS NULL THEN 'since it was created on ' || (t.created_at AT TIME ZONE 'UTC')::date
                    ELSE 'since ' || (t.last_used_at AT TIME ZONE 'UTC')::date END)
      FROM vault_bridge.gateway_tokens AS t
      WHERE t.revoked_at IS NULL
        AND (t.expires_at IS NULL OR t.expires_at > pg_catalog.now())
        AND COALESCE(t.last_used_at, t.created_at) < pg_catalog.now() - vault_bridge.unused_token_after()
    )
    SELECT a.kind, a.secret, a.token, a.host, a.count, a.first_at, a.last_at, a.message
    FROM alerts AS a
    -- Failures first, then unused tokens, then new hosts: a token that invents hosts can fill the list with
    -- new_host alerts, and must not push anyone's failure alerts out of the capped answer.
    ORDER BY CASE a.kind WHEN 'failures' THEN 0 WHEN 'unused_token' THEN 1 ELSE 2 END,
             a.last_at DESC NULLS LAST, a.kind, a.secret, a.token
    LIMIT vault_bridge.max_log_rows();
END
$$;
REVOKE ALL ON FUNCTION public.read_access_alerts(timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.read_access_alerts(timestamptz) TO service_role;
COMMENT ON FUNCTION public.read_access_alerts(timestamptz) IS
  'service_role only. Alerts since p_since (default 24 hours ago), failures first, then unused tokens, then new hosts, each kind newest first, at most vault_bridge.max_log_rows() (so a flood of new_host alerts cannot push a failure alert out): failures (more than vault_bridge.alert_failures() failed accesses to one name, or with one gateway token, revoked and expired ones included, within vault_bridge.alert_failure_window()), new_host (a successful resolve from a host that never resolved that secret before, when other hosts had) and unused_token (an active token unused for vault_bridge.unused_token_after(); count is its idle days). Audited as audit.';

CREATE OR REPLACE FUNCTION public.read_access_log(
  p_since timestamptz DEFAULT NULL,
  p_name text DEFAULT NULL,
  p_failures_only boolean DEFAULT false,
  p_limit integer DEFAULT 1000,
  p_before_id bigint DEFAULT NULL
)
RETURNS TABLE (
  id bigint,
  accessed_at timestamptz,
  secret_name text,
  access_type text,
  success boolean,
  error_message text,
  "session_user" text,
  role text,
  host text,
  provider text,
  user_agent text,
  tenant text,
  token_name text,
  name_count bigint
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  -- Rows written before version 5 may hold names and messages of any
  -- length; they are cut here ($5 and $6: the longest a name or message is
  -- written today, escapes and marker included), so a page's size has a
  -- bound, while what version 5 wrote comes back exactly as stored.
  v_query text := 'SELECT l.id, l.accessed_at, vault_bridge.as_stored(l.secret_name, $5), l.access_type, l.success, '
    'vault_bridge.as_stored(l.error_message, $6), vault_bridge.as_stored(l."session_user", $5), '
    'vault_bridge.as_stored(l.accessed_by ->> ''role'', $5), '
    'vault_bridge.escaped(pg_catalog.left(l.client ->> ''host'', vault_bridge.max_header_chars())), '
    'vault_bridge.escaped(pg_catalog.left(l.client ->> ''provider'', vault_bridge.max_header_chars())), '
    'vault_bridge.escaped(pg_catalog.left(l.client ->> ''user_agent'', vault_bridge.max_header_chars())), '
    'vault_bridge.as_stored(l.tenant, $5), vault_bridge.as_stored(l.token_name, $5), l.name_count '
    'FROM public.vault_access_log AS l WHERE true';
BEGIN
  PERFORM vault_bridge.purge_versions();
  IF p_limit IS NULL OR p_limit < 1 THEN
    PERFORM vault_bridge.fail('audit', NULL, NULL,
      pg_catalog.format('limit %s is not a positive number of rows', COALESCE(p_limit::text, 'NULL')), '22023',
      pg_catalog.format('pass a limit of 1 to %s rows', vault_bridge.max_log_rows()));
  END IF;
  -- Only the filters asked for are in the query, each with its own index:
  -- accessed_at, (secret_name, accessed_at), or the partial index on failures.
  IF p_since IS NOT NULL THEN
    v_query := v_query || ' AND l.accessed_at >= $1';
  END IF;
  IF p_name IS NOT NULL THEN
    v_query := v_query || ' AND l.secret_name = $2';
  END IF;
  IF p_failures_only THEN
    v_query := v_query || ' AND NOT l.success';
  END IF;
  -- A page goes on after the row p_before_id in the order of the answer
  -- (time, then id, both descending): ids alone are not in time order when
  -- transactions overlap.
  IF p_before_id IS NOT NULL THEN
    v_query := v_query || ' AND (l.accessed_at, l.id) < (SELECT b.accessed_at, b.id FROM public.vault_access_log AS b WHERE b.id = $4)';
  END IF;
  v_query := v_query || ' ORDER BY l.accessed_at DESC, l.id DESC LIMIT $3';
  -- The rows are read before this read is recorded, so a call never returns
  -- its own audit row; the next one does. Only a first page is a new read.
  RETURN QUERY EXECUTE v_query
    USING p_since, p_name, LEAST(p_limit, vault_bridge.max_log_rows()), p_before_id,
          vault_bridge.max_log_name_chars() * 6 + 80, vault_bridge.max_error_chars() * 6 + 40;
  IF p_before_id IS NULL THEN
    PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[NULL::text], ARRAY[NULL::text]);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer, bigint) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer, bigint) TO service_role;
COMMENT ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer, bigint) IS
  'service_role only. The audit log newest first, optionally since a time, for one exact name and failures only, at most p_limit rows (1 or more, lowered to vault_bridge.max_log_rows()); with p_before_id, the page after that row. Names and messages come bounded and escaped as loggable_name and loggable_message write them. The log never holds a value. A first page (no p_before_id) is audited as audit.';

CREATE OR REPLACE FUNCTION public.record_edge_sync(p_project_ref text, p_names text[], p_error text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF p_names IS NULL OR pg_catalog.cardinality(p_names) NOT BETWEEN 1 AND vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('edge_sync', NULL, NULL,
      pg_catalog.format('an edge sync names between 1 and %s secrets', vault_bridge.max_names_per_call()), '22023');
  END IF;
  PERFORM vault_bridge.log_row('edge_sync',
    pg_catalog.concat(p_project_ref, ': ', pg_catalog.array_to_string(p_names, ',')),
    p_error, NULL, NULL, pg_catalog.cardinality(p_names));
END
$$;
REVOKE ALL ON FUNCTION public.record_edge_sync(text, text[], text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_edge_sync(text, text[], text) TO service_role;
COMMENT ON FUNCTION public.record_edge_sync(text, text[], text) IS
  'service_role only. One audit row (access type edge_sync) per `bridge edge sync` that sent values to a project''s Edge Function secrets: the project ref and the Edge names sent (never a value), cut and escaped like every logged name; p_error, when the Management API refused the write, makes it a failure row. 1 to vault_bridge.max_names_per_call() names, else 22023.';
