CREATE OR REPLACE FUNCTION public.list_secrets_page(
  p_search text DEFAULT NULL,
  p_tenant text DEFAULT NULL,
  p_type text DEFAULT NULL,
  p_status text DEFAULT NULL,
  p_due text DEFAULT NULL,
  p_limit integer DEFAULT 50,
  p_offset integer DEFAULT 0
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_limit integer := LEAST(GREATEST(COALESCE(p_limit, 50), 1), vault_bridge.max_log_rows());
  v_search text := pg_catalog.lower(NULLIF(p_search, ''));
  v_answer jsonb;
BEGIN
  PERFORM vault_bridge.settle_outside_changes();
  PERFORM vault_bridge.log_access('list', ARRAY[NULL::uuid], ARRAY[p_search], ARRAY[NULL::text]);
  -- Filters and the count read the metadata only (secret_policies); the
  -- audit log is read, as list_secrets_status reads it, for the rows of the
  -- page alone, so a page costs the same at ten or ten thousand secrets.
  WITH every AS (
    SELECT p.* FROM vault_bridge.secret_policies(NULL, NULL, vault_bridge.due_window()) AS p
  ),
  kept AS (
    SELECT p.* FROM every AS p
    WHERE (v_search IS NULL OR pg_catalog.strpos(pg_catalog.lower(p.name || ' ' || COALESCE(p.description, '')), v_search) > 0)
      AND (p_tenant IS NULL OR CASE WHEN p_tenant = 'default' THEN pg_catalog.strpos(p.name, '#') = 0
                                    ELSE pg_catalog.starts_with(p.name, p_tenant || '#') END)
      AND (p_type IS NULL OR p.type = p_type)
      AND (p_status IS NULL OR p.type <> 'generic' AND CASE WHEN p_status = 'untested' THEN p.check_status IS NULL
                                                            ELSE p.check_status = p_status END)
      AND (p_due IS NULL OR CASE WHEN p_due = 'any' THEN p.due <> 'ok' ELSE p.due = p_due END)
  ),
  page AS (
    SELECT k.* FROM kept AS k ORDER BY k.name LIMIT v_limit OFFSET GREATEST(COALESCE(p_offset, 0), 0)
  )
  SELECT pg_catalog.jsonb_build_object(
    'total', (SELECT pg_catalog.count(*) FROM kept),
    'tenants', (SELECT pg_catalog.jsonb_agg(DISTINCT CASE WHEN pg_catalog.strpos(e.name, '#') = 0 THEN 'default'
                                                          ELSE pg_catalog.split_part(e.name, '#', 1) END)
                FROM every AS e),
    'rows', COALESCE((
      SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'name', g.name, 'description', g.description, 'type', g.type, 'status', g.check_status,
        'checked_at', g.checked_at, 'check_message', g.check_message,
        'last_used_at', COALESCE(recent.last_used_at, (
          SELECT l.accessed_at FROM public.vault_access_log AS l
          WHERE l.secret_name = g.name AND l.success AND l.access_type = 'resolve'
          ORDER BY l.accessed_at DESC LIMIT 1)),
        'uses', recent.uses, 'failures', COALESCE(recent.failures, 0), 'gateways', recent.gateways,
        'rotated_at', g.rotated_at, 'rotate_every', EXTRACT(epoch FROM g.rotate_every)::bigint,
        'expires_at', g.expires_at, 'due', g.due, 'due_at', g.due_at, 'created_at', g.created_at,
        'updated_at', g.updated_at) ORDER BY g.name)
      FROM page AS g
      CROSS JOIN LATERAL (
        SELECT pg_catalog.max(l.accessed_at) FILTER (WHERE l.success AND l.access_type = 'resolve') AS last_used_at,
               pg_catalog.count(*) FILTER (WHERE l.success AND l.access_type = 'resolve') AS uses,
               pg_catalog.sum(l.name_count) FILTER (WHERE NOT l.success)::bigint AS failures,
               pg_catalog.count(DISTINCT CASE WHEN l.token_name IS NOT NULL THEN 'token ' || l.tenant || '/' || l.token_name
                                              ELSE 'host ' || l.host END) FILTER (WHERE l.success AND l.access_type = 'resolve') AS gateways
        FROM public.vault_access_log AS l
        WHERE l.secret_name = g.name
          -- The UTC days of usage_window() ending today, the window of the
          -- charts (secret_usage_days): a row's uses are its bars' sum.
          AND l.accessed_at >= (((pg_catalog.now() AT TIME ZONE 'UTC')::date - (EXTRACT(day FROM vault_bridge.usage_window())::integer - 1))::timestamp AT TIME ZONE 'UTC')
          AND l.access_type = ANY (ARRAY['resolve', 'retrieve'])
      ) AS recent
    ), '[]'::jsonb))
  INTO v_answer;
  RETURN v_answer;
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets_page(text, text, text, text, text, integer, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets_page(text, text, text, text, text, integer, integer) TO service_role;
COMMENT ON FUNCTION public.list_secrets_page(text, text, text, text, text, integer, integer) IS
  'service_role only. One page of the secrets table `bridge ui` shows: {"total", "tenants", "rows"}: how many match, every tenant that has a secret (for the filter), and the rows as list_secrets_status gives them (Vault names, tenant prefix included), ordered by name, at most p_limit (capped at vault_bridge.max_log_rows()) from p_offset. Filters, each NULL for any: p_search (case-insensitive, in name or description), p_tenant (''default'' for plain names), p_type, p_status (a test outcome, or ''untested''; generic secrets, which have nothing to test, never match), p_due (expired, overdue, due, or ''any'' of them). Usage is read for the page''s rows only. Never returns or decrypts a value. Audited as list.';

CREATE OR REPLACE FUNCTION public.secret_usage_days(p_names text[], p_days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_days integer := LEAST(GREATEST(COALESCE(p_days, 30), 1), 90);
  v_first date := (pg_catalog.now() AT TIME ZONE 'UTC')::date - (v_days - 1);
  v_since timestamptz := v_first::timestamp AT TIME ZONE 'UTC';
  v_name text;
  v_one jsonb;
  v_secrets jsonb := '{}'::jsonb;
  v_answer jsonb;
BEGIN
  IF p_names IS NULL OR pg_catalog.cardinality(p_names) > vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('audit', NULL, NULL,
      pg_catalog.format('give between 0 and %s names', vault_bridge.max_names_per_call()), '22023',
      'ask for one page of names at a time');
  END IF;
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid],
    ARRAY[CASE WHEN pg_catalog.cardinality(p_names) = 1 THEN p_names[1] END], ARRAY[NULL::text]);
  -- Counted as list_secrets_status counts: a resolve is a successful
  -- resolve; a failure is a failed resolve or read by name, weighed by
  -- name_count. A rotation is a successful rotate. Days are UTC days.
  -- One query per name, each planned for its name (EXECUTE plans it once
  -- with the values given, never a cached generic plan): the planner sees
  -- that name's own statistics and reads its range of the covering (secret_name,
  -- accessed_at) index, grouped by day. A join over all names let it take
  -- a flooded name's estimate for every name and read the whole log, so a
  -- name with no rows cost a scan of every row.
  FOR v_name IN
    SELECT DISTINCT n.name FROM pg_catalog.unnest(p_names) AS n(name) WHERE n.name IS NOT NULL
  LOOP
    EXECUTE $q$
    WITH counted AS (
      SELECT (l.accessed_at AT TIME ZONE 'UTC')::date - $2 AS day,
             pg_catalog.count(*) FILTER (WHERE l.success AND l.access_type = 'resolve') AS resolves,
             COALESCE(pg_catalog.sum(l.name_count) FILTER (WHERE NOT l.success AND l.access_type <> 'rotate'), 0) AS failures,
             pg_catalog.jsonb_agg(l.accessed_at ORDER BY l.accessed_at) FILTER (WHERE l.success AND l.access_type = 'rotate') AS rotations
      FROM public.vault_access_log AS l
      WHERE l.secret_name = $1 AND l.accessed_at >= $3
        AND l.access_type = ANY (ARRAY['resolve', 'retrieve', 'rotate'])
      GROUP BY 1
    )
    SELECT pg_catalog.jsonb_build_object(
      'resolves', pg_catalog.jsonb_agg(COALESCE(c.resolves, 0) ORDER BY d.day),
      'failures', pg_catalog.jsonb_agg(COALESCE(c.failures, 0) ORDER BY d.day),
      'rotations', COALESCE((SELECT pg_catalog.jsonb_agg(r.at ORDER BY r.at)
                             FROM counted AS k CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(k.rotations) AS r(at)
                             WHERE k.rotations IS NOT NULL), '[]'::jsonb))
    FROM pg_catalog.generate_series(0, $4 - 1) AS d(day)
    LEFT JOIN counted AS c ON c.day = d.day
    $q$ INTO v_one USING v_name, v_first, v_since, v_days;
    v_secrets := v_secrets || pg_catalog.jsonb_build_object(v_name, v_one);
  END LOOP;
  v_answer := pg_catalog.jsonb_build_object('first_day', v_first, 'days', v_days, 'secrets', v_secrets);
  RETURN v_answer;
END
$$;
REVOKE ALL ON FUNCTION public.secret_usage_days(text[], integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.secret_usage_days(text[], integer) TO service_role;
COMMENT ON FUNCTION public.secret_usage_days(text[], integer) IS
  'service_role only. For bridge ui''s charts: for each Vault name given (at most vault_bridge.max_names_per_call()), over the last p_days UTC days (1 to 90, default 30) ending today: {"first_day", "days", "secrets": {name: {"resolves": [per day], "failures": [per day], "rotations": [timestamps]}}}. Resolves are successful resolves; failures are failed resolves and reads by name (weighed by name_count); rotations are successful rotates. Read from the covering (secret_name, accessed_at) index, one range per name. Never returns or decrypts a value. Audited as audit (naming the secret when one is asked for).';

CREATE OR REPLACE FUNCTION public.list_secrets_page_usage(
  p_search text DEFAULT NULL,
  p_tenant text DEFAULT NULL,
  p_type text DEFAULT NULL,
  p_status text DEFAULT NULL,
  p_due text DEFAULT NULL,
  p_limit integer DEFAULT 50,
  p_offset integer DEFAULT 0,
  p_days integer DEFAULT 30
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_page jsonb := public.list_secrets_page(p_search, p_tenant, p_type, p_status, p_due, p_limit, p_offset);
  v_names text[] := ARRAY(SELECT r.row ->> 'name' FROM pg_catalog.jsonb_array_elements(v_page -> 'rows') AS r(row));
  v_chunk integer := vault_bridge.max_names_per_call();
  v_usage jsonb := public.secret_usage_days(v_names[1:v_chunk], p_days);
  v_part jsonb;
BEGIN
  -- The list page in one round trip: list_secrets_page's answer and the
  -- usage by day of its rows, each function as it stands (and audited as
  -- it is), nothing computed twice. A page may hold more rows than
  -- secret_usage_days takes names: it is asked in chunks, so any page
  -- list_secrets_page gives has its usage.
  FOR i IN 1 .. (COALESCE(pg_catalog.cardinality(v_names), 0) - 1) / v_chunk LOOP
    v_part := public.secret_usage_days(v_names[i * v_chunk + 1:(i + 1) * v_chunk], p_days);
    v_usage := pg_catalog.jsonb_set(v_usage, '{secrets}', (v_usage -> 'secrets') || (v_part -> 'secrets'));
  END LOOP;
  RETURN v_page || pg_catalog.jsonb_build_object('usage', v_usage);
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets_page_usage(text, text, text, text, text, integer, integer, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets_page_usage(text, text, text, text, text, integer, integer, integer) TO service_role;
COMMENT ON FUNCTION public.list_secrets_page_usage(text, text, text, text, text, integer, integer, integer) IS
  'service_role only. For bridge ui''s secrets list: list_secrets_page''s answer with "usage": secret_usage_days of its rows over p_days (asked max_names_per_call() names at a time, so any page list_secrets_page gives has its usage): one round trip for a page and its sparklines. Audited as those two are (list, then one audit per chunk).';
