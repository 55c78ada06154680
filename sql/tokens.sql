CREATE OR REPLACE FUNCTION vault_bridge.token_budget(
  p_token_id bigint,
  p_rows integer,
  p_failure_rows integer,
  p_names integer,
  p_failed_names integer,
  p_used boolean,
  OUT tenant text,
  OUT token_name text,
  OUT found_rows boolean,
  OUT failure_rows boolean
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
  v_rows integer;
BEGIN
  -- The row lock orders concurrent calls of one token, so the budget holds.
  SELECT t.* INTO v_token FROM vault_bridge.gateway_tokens AS t WHERE t.id = p_token_id FOR UPDATE;
  IF v_token.log_window_start IS NULL OR v_token.log_window_start <= pg_catalog.now() - vault_bridge.token_log_window() THEN
    PERFORM vault_bridge.log_unlogged(p_token_id);
    v_token.log_window_start := pg_catalog.now();
    v_token.log_window_rows := 0;
  END IF;
  v_rows := v_token.log_window_rows;
  -- Successes stop token_failure_rows() short of the budget; failures may
  -- use all of it. So when a failure row is refused, at least that many
  -- failure rows of this window are itemised already.
  found_rows := p_rows = 0 OR v_rows + p_rows <= vault_bridge.token_log_rows() - vault_bridge.token_failure_rows();
  IF found_rows THEN
    v_rows := v_rows + p_rows;
  END IF;
  failure_rows := p_failure_rows = 0 OR v_rows + p_failure_rows <= vault_bridge.token_log_rows();
  IF failure_rows THEN
    v_rows := v_rows + p_failure_rows;
  END IF;
  UPDATE vault_bridge.gateway_tokens AS t
  SET last_used_at = CASE WHEN p_used THEN pg_catalog.now() ELSE t.last_used_at END,
      log_window_start = v_token.log_window_start,
      log_window_rows = v_rows,
      unlogged_names = t.unlogged_names + CASE WHEN found_rows THEN 0 ELSE p_names END
                                        + CASE WHEN failure_rows THEN 0 ELSE p_failed_names END,
      unlogged_calls = t.unlogged_calls + CASE WHEN found_rows AND failure_rows THEN 0 ELSE 1 END
  WHERE t.id = p_token_id;
  tenant := v_token.tenant;
  token_name := v_token.name;
END
$$;
COMMENT ON FUNCTION vault_bridge.token_budget(bigint, integer, integer, integer, integer, boolean) IS
  'Internal. Charges one call''s audit rows to a token''s budget of token_log_rows() per token_log_window(): p_rows rows for p_names found names (itemised while they leave token_failure_rows() free) and p_failure_rows rows for p_failed_names failed ones (itemised while the whole budget lasts). Says which of the two the caller may write, with the token''s tenant and name; what may not be written is counted on the token row instead and written as one summary row when the next window opens. p_used records last_used_at.';

CREATE OR REPLACE FUNCTION vault_bridge.log_token_resolve(
  p_token_id bigint,
  p_found_ids uuid[],
  p_found_names text[],
  p_failed_names text[],
  p_problems text[]
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_budget record;
  v_found integer := COALESCE(pg_catalog.cardinality(p_found_ids), 0);
  v_failed integer := COALESCE(pg_catalog.cardinality(p_failed_names), 0);
  -- Refused names that are secrets in Vault: each gets its own row, so a
  -- probe of a real secret is on its chart and in its failures however
  -- many made-up names come with it. The made-up ones share one row.
  v_stored text[] := CASE WHEN v_failed > 1 THEN ARRAY(
    SELECT DISTINCT f.name FROM pg_catalog.unnest(p_failed_names) AS f(name)
    WHERE EXISTS (SELECT 1 FROM vault.secrets AS s WHERE s.name = f.name)) END;
  v_rest integer := v_failed - COALESCE(pg_catalog.cardinality(v_stored), 0);
BEGIN
  SELECT b.* INTO v_budget
  FROM vault_bridge.token_budget(p_token_id, v_found,
    CASE WHEN v_failed = 0 THEN 0 WHEN v_failed = 1 THEN 1
         ELSE COALESCE(pg_catalog.cardinality(v_stored), 0) + CASE WHEN v_rest > 0 THEN 1 ELSE 0 END END,
    v_found, v_failed, true) AS b;
  IF v_found > 0 AND v_budget.found_rows THEN
    PERFORM vault_bridge.log_access('resolve', p_found_ids, p_found_names,
      ARRAY(SELECT NULL::text FROM pg_catalog.generate_series(1, v_found)), v_budget.tenant, v_budget.token_name);
  END IF;
  IF v_failed = 0 OR NOT v_budget.failure_rows THEN
    RETURN;
  END IF;
  IF v_failed = 1 THEN
    PERFORM vault_bridge.log_row('resolve', p_failed_names[1], p_problems[1], v_budget.tenant, v_budget.token_name, 1);
  ELSE
    PERFORM vault_bridge.log_row('resolve', f.name, f.problem, v_budget.tenant, v_budget.token_name, f.times)
    FROM (SELECT f.name, pg_catalog.min(f.problem) AS problem, pg_catalog.count(*) AS times
          FROM ROWS FROM (pg_catalog.unnest(p_failed_names), pg_catalog.unnest(p_problems)) AS f(name, problem)
          WHERE f.name = ANY (v_stored)
          GROUP BY f.name) AS f;
    IF v_rest = 0 THEN
      RETURN;
    ELSIF v_rest = 1 THEN
      -- One name left: its own row, as a single refused name gets.
      PERFORM vault_bridge.log_row('resolve', f.name, f.problem, v_budget.tenant, v_budget.token_name, 1)
      FROM ROWS FROM (pg_catalog.unnest(p_failed_names), pg_catalog.unnest(p_problems)) AS f(name, problem)
      WHERE NOT COALESCE(f.name = ANY (v_stored), false);
      RETURN;
    END IF;
    -- Names cut before they are joined: a flood of long names costs this
    -- one row of at most max_error_chars() characters.
    PERFORM vault_bridge.log_row('resolve', NULL,
      pg_catalog.format('%s names refused: %s', v_rest,
        (SELECT pg_catalog.string_agg(g.problem || ': ' || g.names, '; ' ORDER BY g.problem)
         FROM (SELECT f.problem, pg_catalog.string_agg(vault_bridge.loggable_name(f.name), ', ' ORDER BY f.n) AS names
               FROM ROWS FROM (pg_catalog.unnest(p_failed_names), pg_catalog.unnest(p_problems)) WITH ORDINALITY AS f(name, problem, n)
               WHERE NOT COALESCE(f.name = ANY (v_stored), false)
               GROUP BY f.problem) AS g)),
      v_budget.tenant, v_budget.token_name, v_rest);
  END IF;
END
$$;
COMMENT ON FUNCTION vault_bridge.log_token_resolve(bigint, uuid[], text[], text[], text[]) IS
  'Internal. The audit rows of one token resolve: one per found name, one per refused name that is a secret in Vault (so a probe shows on that secret''s chart and failures), and the other refused names in one row (its name_count says how many), within the token''s audit budget (token_budget, which keeps a share for failures). Also records last_used_at.';

CREATE OR REPLACE FUNCTION vault_bridge.log_refused_token(p_token_id bigint, p_names integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
  v_budget record;
BEGIN
  -- A window whose budget is spent takes nothing more, not even a count:
  -- whoever holds a dead token cannot make each call a write.
  IF EXISTS (SELECT FROM vault_bridge.gateway_tokens AS t
             WHERE t.id = p_token_id
               AND t.log_window_start > pg_catalog.now() - vault_bridge.token_log_window()
               AND t.log_window_rows >= vault_bridge.token_log_rows()) THEN
    RETURN;
  END IF;
  SELECT b.* INTO v_budget FROM vault_bridge.token_budget(p_token_id, 0, 1, 0, p_names, false) AS b;
  IF NOT v_budget.failure_rows THEN
    RETURN;
  END IF;
  SELECT t.* INTO v_token FROM vault_bridge.gateway_tokens AS t WHERE t.id = p_token_id;
  PERFORM vault_bridge.log_row('resolve', NULL,
    CASE WHEN v_token.revoked_at IS NOT NULL
         THEN pg_catalog.format('gateway token revoked at %s', vault_bridge.shown_time(v_token.revoked_at))
         ELSE pg_catalog.format('gateway token expired at %s', vault_bridge.shown_time(v_token.expires_at)) END,
    v_token.tenant, v_token.name, p_names);
END
$$;
COMMENT ON FUNCTION vault_bridge.log_refused_token(bigint, integer) IS
  'Internal. One failure row for a call made with a known token that is revoked or expired, standing for the p_names names it asked for, within the token''s audit budget; once the window''s budget is spent, nothing at all (no row, no count, no lock): a stolen old token that keeps trying is seen, and cannot flood the log or the table.';

CREATE OR REPLACE FUNCTION vault_bridge.reading_token(p_token text, p_names text[])
RETURNS vault_bridge.gateway_tokens
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
BEGIN
  SELECT t.* INTO v_token
  FROM vault_bridge.gateway_tokens AS t
  WHERE t.token_sha256 = pg_catalog.sha256(pg_catalog.convert_to(COALESCE(p_token, ''), 'UTF8'))
    AND t.revoked_at IS NULL
    AND (t.expires_at IS NULL OR t.expires_at > pg_catalog.now());
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('list', NULL, NULL, 'gateway token unknown, revoked or expired', 'PT401',
      'mint a new one with `bridge tokens create` on the admin machine');
  END IF;
  IF p_names IS NULL OR pg_catalog.cardinality(p_names) > vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('list', NULL, NULL,
      pg_catalog.format('p_names must be an array of at most %s names', vault_bridge.max_names_per_call()), '22023',
      'split the request');
  END IF;
  RETURN v_token;
END
$$;
COMMENT ON FUNCTION vault_bridge.reading_token(text, text[]) IS
  'Internal. The active gateway token behind a metadata read (due dates, the change feed) and its bounded names: raises PT401 for any refused token, writing nothing, and 22023 for a NULL or oversized list. The resolve checks its token itself, as it records a known refused one.';

-- A gateway holds only the project's publishable key (role anon) and its own
-- token. The token is checked here on every call, so revocation and expiry
-- take effect on the next resolve; the database keeps its sha256 only.

CREATE OR REPLACE FUNCTION public.resolve_secrets_with_token(p_token text, p_names text[])
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
  v_values jsonb;
  v_ids uuid[];
  v_names text[];
  v_failed text[];
  v_problems text[];
BEGIN
  SELECT t.* INTO v_token
  FROM vault_bridge.gateway_tokens AS t
  WHERE t.token_sha256 = pg_catalog.sha256(pg_catalog.convert_to(COALESCE(p_token, ''), 'UTF8'))
    AND t.revoked_at IS NULL
    AND (t.expires_at IS NULL OR t.expires_at > pg_catalog.now())
  -- Locked here, so a revocation committing meanwhile is seen: the row is checked again once it is free.
  FOR UPDATE;
  IF NOT FOUND THEN
    -- The refusals, off the working path: read without a lock.
    SELECT t.* INTO v_token
    FROM vault_bridge.gateway_tokens AS t
    WHERE t.token_sha256 = pg_catalog.sha256(pg_catalog.convert_to(COALESCE(p_token, ''), 'UTF8'));
  END IF;
  IF v_token.id IS NULL THEN
    -- An unknown token writes nothing: anon could otherwise fill the log.
    PERFORM vault_bridge.fail('resolve', NULL, NULL, 'gateway token unknown, revoked or expired', 'PT401',
      'mint a new one with `bridge tokens create` on the admin machine');
  END IF;
  IF v_token.revoked_at IS NOT NULL OR v_token.expires_at <= pg_catalog.now() THEN
    -- A known token that was revoked or has expired is recorded, within its
    -- audit budget, and refused without raising, which would roll the row
    -- back: PostgREST answers with response.status and this body, as it
    -- answers a raised PT401.
    PERFORM vault_bridge.log_refused_token(v_token.id,
      GREATEST(1, LEAST(COALESCE(pg_catalog.cardinality(p_names), 0), vault_bridge.max_names_per_call())));
    PERFORM pg_catalog.set_config('response.status', '401', true);
    RETURN pg_catalog.jsonb_build_object('code', 'PT401', 'message', 'gateway token unknown, revoked or expired',
      'hint', 'mint a new one with `bridge tokens create` on the admin machine', 'details', NULL);
  END IF;
  IF p_names IS NULL OR pg_catalog.cardinality(p_names) > vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('resolve', NULL, NULL,
      pg_catalog.format('p_names must be an array of at most %s names', vault_bridge.max_names_per_call()), '22023',
      'split the request');
  END IF;

  -- Only names of the token's own tenant that its allow-list matches are
  -- looked up (vault_bridge.lookup).
  SELECT COALESCE(pg_catalog.jsonb_object_agg(l.name, l.secret) FILTER (WHERE l.secret_id IS NOT NULL), '{}'::jsonb),
         pg_catalog.array_agg(l.secret_id ORDER BY l.vault_name) FILTER (WHERE l.secret_id IS NOT NULL),
         pg_catalog.array_agg(l.vault_name ORDER BY l.vault_name) FILTER (WHERE l.secret_id IS NOT NULL),
         pg_catalog.array_agg(l.vault_name ORDER BY l.vault_name) FILTER (WHERE l.secret_id IS NULL),
         pg_catalog.array_agg(l.problem ORDER BY l.vault_name) FILTER (WHERE l.secret_id IS NULL)
    INTO v_values, v_ids, v_names, v_failed, v_problems
  FROM vault_bridge.lookup(p_names, v_token.tenant, v_token.allow) AS l;
  PERFORM vault_bridge.log_token_resolve(v_token.id, v_ids, v_names, v_failed, v_problems);
  RETURN v_values;
END
$$;
REVOKE ALL ON FUNCTION public.resolve_secrets_with_token(text, text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.resolve_secrets_with_token(text, text[]) TO anon, service_role;
COMMENT ON FUNCTION public.resolve_secrets_with_token(text, text[]) IS
  'anon (a gateway with the publishable key) and service_role. With a gateway token that is neither revoked nor expired: {name: value} for the requested names of the token''s tenant that its allow-list matches (in tenant default, never through a glob of only * and ?), in one lookup; other names are absent. Audited with the token''s name and tenant: one row per found name and one for all failed names, within the token''s audit budget. A refused token gets HTTP 401: an unknown one raises PT401 and writes nothing; a known one that is revoked or expired is recorded as one failure row within its audit budget and answered with response.status 401 and PostgREST''s error body.';

CREATE OR REPLACE FUNCTION public.secrets_due_with_token(p_token text, p_names text[])
RETURNS TABLE (name text, due text, due_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
BEGIN
  v_token := vault_bridge.reading_token(p_token, p_names);
  IF (SELECT b.found_rows FROM vault_bridge.token_budget(v_token.id, 1, 0, 1, 0, false) AS b) THEN
    PERFORM vault_bridge.log_row('list', NULL, NULL, v_token.tenant, v_token.name,
      GREATEST(1, pg_catalog.cardinality(p_names)));
  END IF;
  -- The same names and allow-list as a resolve, through its lookup; only
  -- dates leave, never a value.
  RETURN QUERY
    WITH allowed AS (
      SELECT l.name, l.vault_name FROM vault_bridge.lookup(p_names, v_token.tenant, v_token.allow) AS l
      WHERE l.secret_id IS NOT NULL
    )
    SELECT a.name, p.due, p.due_at
    FROM allowed AS a
    JOIN vault_bridge.secret_policies(NULL, ARRAY(SELECT a.vault_name FROM allowed AS a), vault_bridge.due_window()) AS p
      ON p.name = a.vault_name
    WHERE p.due <> 'ok'
    ORDER BY a.name;
END
$$;
REVOKE ALL ON FUNCTION public.secrets_due_with_token(text, text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.secrets_due_with_token(text, text[]) TO anon, service_role;
COMMENT ON FUNCTION public.secrets_due_with_token(text, text[]) IS
  'anon (a gateway''s doctor) and service_role. With an active gateway token: which of the requested names it may resolve are expired, overdue or due within vault_bridge.due_window(), and when; never a value. A refused token raises PT401. Audited as list, within the token''s audit budget.';

CREATE OR REPLACE FUNCTION public.changed_secrets_with_token(p_token text, p_names text[], p_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
BEGIN
  v_token := vault_bridge.reading_token(p_token, p_names);
  RETURN vault_bridge.changes(p_names, v_token.tenant, v_token.allow, p_since);
END
$$;
REVOKE ALL ON FUNCTION public.changed_secrets_with_token(text, text[], timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.changed_secrets_with_token(text, text[], timestamptz) TO anon, service_role;
COMMENT ON FUNCTION public.changed_secrets_with_token(text, text[], timestamptz) IS
  'anon (a gateway''s `bridge watch`) and service_role. changed_secrets for an active gateway token: the names of its tenant that its allow-list matches (others are gone). A refused token raises PT401 and writes nothing. Never a value; not audited.';

CREATE OR REPLACE FUNCTION public.create_gateway_token(
  p_tenant text,
  p_name text,
  p_token_sha256 text,
  p_allow text[] DEFAULT ARRAY['*'],
  p_expires_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_hash bytea;
BEGIN
  PERFORM vault_bridge.ensure_tenant(p_tenant);
  IF p_token_sha256 IS NULL OR p_token_sha256 !~ '^[0-9a-f]{64}$' THEN
    PERFORM vault_bridge.fail('token', NULL, p_name, 'p_token_sha256 is not a hex sha256', '22023',
      'pass the sha256 of the token, never the token');
  END IF;
  v_hash := pg_catalog.decode(p_token_sha256, 'hex');
  IF p_allow IS NULL OR pg_catalog.cardinality(p_allow) = 0 OR pg_catalog.array_position(p_allow, NULL) IS NOT NULL THEN
    PERFORM vault_bridge.fail('token', NULL, p_name, 'the allow-list is empty or holds NULL', '22023',
      'pass at least one glob, e.g. ARRAY[''*'']');
  END IF;
  IF p_tenant = vault_bridge.default_tenant()
     AND EXISTS (SELECT FROM pg_catalog.unnest(p_allow) AS a(glob) WHERE vault_bridge.wildcard_only(a.glob)) THEN
    PERFORM vault_bridge.fail('token', NULL, p_name,
      pg_catalog.format('a token of tenant %s must name its secrets: a glob of only * and ? would reach every Vault secret, also ones the bridge never stored',
                        vault_bridge.default_tenant()), '22023',
      'name them, e.g. ARRAY[''OPENAI_API_KEY'', ''TELEGRAM_*''], or use a tenant of its own');
  END IF;
  BEGIN
    INSERT INTO vault_bridge.gateway_tokens (tenant, name, token_sha256, allow, expires_at)
    VALUES (p_tenant, p_name, v_hash, p_allow, p_expires_at);
  EXCEPTION
    WHEN unique_violation THEN
      PERFORM vault_bridge.fail('token', NULL, p_name,
        pg_catalog.format('tenant %s already has a token named %s', p_tenant, p_name), '23505',
        'pick another name: a revoked token keeps its name, for the audit trail');
    WHEN check_violation THEN
      PERFORM vault_bridge.fail('token', NULL, p_name,
        pg_catalog.format('token name %s is not usable', pg_catalog.quote_literal(p_name)), '22023',
        'use a letter or digit, then up to 62 of A-Z a-z 0-9 . _ -');
  END;
  PERFORM vault_bridge.log_access('token', ARRAY[NULL::uuid], ARRAY[NULL::text], ARRAY[NULL::text], p_tenant, p_name);
  RETURN pg_catalog.jsonb_build_object('tenant', p_tenant, 'name', p_name, 'allow', pg_catalog.to_jsonb(p_allow),
                                       'expires_at', p_expires_at);
END
$$;
REVOKE ALL ON FUNCTION public.create_gateway_token(text, text, text, text[], timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.create_gateway_token(text, text, text, text[], timestamptz) TO service_role;
COMMENT ON FUNCTION public.create_gateway_token(text, text, text, text[], timestamptz) IS
  'service_role only. Records a gateway token for a tenant by its sha256 (the token itself never reaches the database), with an allow-list of name globs and an optional expiry. In tenant default the allow-list must name its secrets: a glob of only * and ? raises 22023 there. Audited as token.';

CREATE OR REPLACE FUNCTION public.list_gateway_tokens()
RETURNS TABLE (
  tenant text,
  name text,
  allow text[],
  created_at timestamptz,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
)
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT t.tenant, t.name, t.allow, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
  FROM vault_bridge.gateway_tokens AS t
  ORDER BY t.tenant, t.name, t.created_at
$$;
REVOKE ALL ON FUNCTION public.list_gateway_tokens() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_gateway_tokens() TO service_role;
COMMENT ON FUNCTION public.list_gateway_tokens() IS
  'service_role only. Every gateway token''s tenant, name, allow-list and times; never the token or its hash.';

CREATE OR REPLACE FUNCTION public.revoke_gateway_token(p_tenant text, p_name text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_found boolean;
  v_id bigint;
BEGIN
  UPDATE vault_bridge.gateway_tokens AS t SET revoked_at = pg_catalog.now()
  WHERE t.tenant = p_tenant AND t.name = p_name AND t.revoked_at IS NULL
  RETURNING t.id INTO v_id;
  v_found := FOUND;
  IF v_found THEN
    -- What the token's audit budget kept out of the log is written now: no later call will.
    PERFORM vault_bridge.log_unlogged(v_id);
  END IF;
  PERFORM vault_bridge.log_access('token', ARRAY[NULL::uuid], ARRAY[NULL::text],
    ARRAY[CASE WHEN v_found THEN NULL ELSE 'no such active token' END], p_tenant, p_name);
  RETURN v_found;
END
$$;
REVOKE ALL ON FUNCTION public.revoke_gateway_token(text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.revoke_gateway_token(text, text) TO service_role;
COMMENT ON FUNCTION public.revoke_gateway_token(text, text) IS
  'service_role only. Revokes a tenant''s active token by name (the row stays, for the audit trail); false when there is none. Takes effect on the token''s next resolve; what its audit budget kept out of the log is written as one summary row. Audited as token.';
