CREATE OR REPLACE FUNCTION vault_bridge.shown_time(p_at timestamptz)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' $$;
REVOKE ALL ON FUNCTION vault_bridge.shown_time(timestamptz) FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON FUNCTION vault_bridge.shown_time(timestamptz) IS
  'Internal. A time as a message shows it to people, as the CLI and dashboard do: to the minute, in UTC (2026-12-07 16:43 UTC), never a raw timestamp with microseconds and an offset.';

CREATE OR REPLACE FUNCTION vault_bridge.shown_interval(p_span interval)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT u.n || ' ' || u.unit || CASE WHEN u.n = 1 THEN '' ELSE 's' END
  FROM (SELECT pg_catalog.floor(EXTRACT(epoch FROM p_span))::bigint AS s) AS e
  CROSS JOIN LATERAL (SELECT CASE WHEN e.s % 86400 = 0 THEN e.s / 86400 WHEN e.s % 3600 = 0 THEN e.s / 3600
                                  WHEN e.s % 60 = 0 THEN e.s / 60 ELSE e.s END AS n,
                             CASE WHEN e.s % 86400 = 0 THEN 'day' WHEN e.s % 3600 = 0 THEN 'hour'
                                  WHEN e.s % 60 = 0 THEN 'minute' ELSE 'second' END AS unit) AS u
$$;
REVOKE ALL ON FUNCTION vault_bridge.shown_interval(interval) FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON FUNCTION vault_bridge.shown_interval(interval) IS
  'Internal. A span as a message shows it to people: in the largest whole unit it is a whole number of (days, hours, minutes or seconds), never as hh:mm:ss.';

CREATE OR REPLACE FUNCTION vault_bridge.escaped(p_text text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_text !~ vault_bridge.control_characters() THEN p_text
    ELSE (SELECT pg_catalog.string_agg(
                   CASE WHEN c.ch !~ vault_bridge.control_characters() THEN c.ch
                        WHEN pg_catalog.length(pg_catalog.to_hex(pg_catalog.ascii(c.ch))) <= 2
                          THEN '\x' || pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(c.ch)), 2, '0')
                        ELSE '\u' || pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(c.ch)), 4, '0') END,
                   '' ORDER BY c.n)
          FROM pg_catalog.regexp_split_to_table(p_text, '') WITH ORDINALITY AS c(ch, n))
  END
$$;
COMMENT ON FUNCTION vault_bridge.escaped(text) IS
  'Internal. The text with each control_characters() character written as \xNN or \uNNNN, so a log line never carries a terminal sequence or a forged line break. Callers cut the text first: it goes character by character.';

CREATE OR REPLACE FUNCTION vault_bridge.name_problem(p_name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_name IS NULL THEN 'secret name is NULL'
    WHEN p_name = '' THEN 'secret name is empty'
    WHEN pg_catalog.length(p_name) > vault_bridge.max_name_chars()
      THEN 'secret name is longer than ' || vault_bridge.max_name_chars()::text || ' characters'
    WHEN p_name ~ vault_bridge.control_characters()
      THEN 'secret name holds control character '
           || vault_bridge.escaped(pg_catalog.substring(p_name, vault_bridge.control_characters()))
  END
$$;
COMMENT ON FUNCTION vault_bridge.name_problem(text) IS
  'Internal. Why a secret name is unusable (NULL, empty, too long, or holding a control or bidi character), or NULL when it is fine. Called only by the public entry points.';

CREATE OR REPLACE FUNCTION vault_bridge.loggable_name(p_name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_name IS NULL THEN NULL
    WHEN pg_catalog.length(p_name) <= vault_bridge.max_name_chars() AND p_name !~ vault_bridge.control_characters()
      THEN p_name
    ELSE vault_bridge.escaped(pg_catalog.left(p_name, vault_bridge.max_log_name_chars()))
         || pg_catalog.format('…[%s: %s chars, sha256 %s…]',
              CASE WHEN pg_catalog.length(p_name) > vault_bridge.max_log_name_chars() THEN 'truncated' ELSE 'escaped' END,
              pg_catalog.length(p_name),
              pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_name, 'UTF8')), 'hex'), 16))
  END
$$;
COMMENT ON FUNCTION vault_bridge.loggable_name(text) IS
  'Internal. A name as the audit log and the Postgres log hold it: itself when it is a usable name, else its first max_log_name_chars() characters escaped and a marker with its length and sha256 prefix, so one bad name can neither fail a batch (an index row too large) nor fill the log. Every log path calls it.';

CREATE OR REPLACE FUNCTION vault_bridge.loggable_message(p_message text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_message IS NULL THEN NULL
    WHEN pg_catalog.length(p_message) <= vault_bridge.max_error_chars() AND p_message !~ vault_bridge.control_characters()
      THEN p_message
    ELSE vault_bridge.escaped(pg_catalog.left(p_message, vault_bridge.max_error_chars()))
         || CASE WHEN pg_catalog.length(p_message) > vault_bridge.max_error_chars()
                 THEN pg_catalog.format('…[truncated: %s chars]', pg_catalog.length(p_message)) ELSE '' END
  END
$$;
COMMENT ON FUNCTION vault_bridge.loggable_message(text) IS
  'Internal. An error message cut to max_error_chars() and escaped, with a marker when cut. Every log path and fail call it.';

CREATE OR REPLACE FUNCTION vault_bridge.as_stored(p_text text, p_max integer)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_text IS NULL OR (pg_catalog.length(p_text) <= p_max AND p_text !~ vault_bridge.control_characters())
      THEN p_text
    ELSE vault_bridge.escaped(pg_catalog.left(p_text, p_max))
         || pg_catalog.format('…[cut on read: %s chars]', pg_catalog.length(p_text))
  END
$$;
COMMENT ON FUNCTION vault_bridge.as_stored(text, integer) IS
  'Internal. Audit text as read_access_log returns it: what loggable_name and loggable_message wrote (never longer than p_max, never holding a raw control character) unchanged, so its marker stays true; only rows written before version 5 are cut and escaped here. Read by read_access_log.';

CREATE OR REPLACE FUNCTION vault_bridge.wildcard_only(p_glob text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT p_glob ~ '^[*?]+$' $$;
COMMENT ON FUNCTION vault_bridge.wildcard_only(text) IS
  'Internal. Whether an allow-list glob is made only of * and ?: in tenant default, whose names are every plain Vault name, such a glob would reach secrets the bridge never stored (a service_role key kept for pg_net), so it is refused there and matches nothing.';

CREATE OR REPLACE FUNCTION vault_bridge.tenant_of(p_vault_name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_vault_name IS NULL THEN NULL
    WHEN pg_catalog.strpos(p_vault_name, vault_bridge.tenant_separator()) = 0 THEN vault_bridge.default_tenant()
    WHEN pg_catalog.split_part(p_vault_name, vault_bridge.tenant_separator(), 1) ~ vault_bridge.tenant_name_pattern()
      THEN pg_catalog.split_part(p_vault_name, vault_bridge.tenant_separator(), 1)
  END
$$;
COMMENT ON FUNCTION vault_bridge.tenant_of(text) IS
  'Internal. The tenant a Vault name belongs to: default without a separator, T for T#NAME when T is a tenant name, NULL otherwise. Read by set_secret and list_tenants.';

CREATE OR REPLACE FUNCTION vault_bridge.request_caller()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_claims jsonb;
BEGIN
  v_claims := NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
  IF v_claims IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'role', v_claims ->> 'role',
    'sub', v_claims ->> 'sub'));
EXCEPTION WHEN invalid_text_representation THEN
  RETURN pg_catalog.jsonb_build_object('error', 'request.jwt.claims is not JSON');
END
$$;
COMMENT ON FUNCTION vault_bridge.request_caller() IS
  'Internal. Role and sub of the API caller from request.jwt.claims, NULL outside PostgREST.';

CREATE OR REPLACE FUNCTION vault_bridge.request_client()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_headers jsonb;
  v_client jsonb;
  v_max integer := vault_bridge.max_header_chars();
BEGIN
  v_headers := NULLIF(pg_catalog.current_setting('request.headers', true), '')::jsonb;
  IF v_headers IS NULL THEN
    RETURN NULL;
  END IF;
  -- Only these three headers are copied: apikey and authorization carry credentials.
  v_client := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'user_agent', vault_bridge.escaped(pg_catalog.left(v_headers ->> 'user-agent', v_max)),
    'host', vault_bridge.escaped(pg_catalog.left(v_headers ->> 'x-bridge-host', v_max)),
    'provider', vault_bridge.escaped(pg_catalog.left(v_headers ->> 'x-bridge-provider', v_max))));
  RETURN NULLIF(v_client, '{}'::jsonb);
EXCEPTION WHEN invalid_text_representation THEN
  RETURN pg_catalog.jsonb_build_object('error', 'request.headers is not JSON');
END
$$;
COMMENT ON FUNCTION vault_bridge.request_client() IS
  'Internal. Non-credential request headers (user agent, bridge host and provider), each cut and escaped; NULL outside PostgREST.';

CREATE OR REPLACE FUNCTION vault_bridge.log_access(
  p_access_type text,
  p_secret_ids uuid[],
  p_names text[],
  p_errors text[],
  p_tenant text,
  p_token_name text
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_caller jsonb := vault_bridge.request_caller();
  v_client jsonb := vault_bridge.request_client();
BEGIN
  INSERT INTO public.vault_access_log
    (secret_id, secret_name, accessed_by, client, access_type, success, error_message, tenant, token_name)
  SELECT e.secret_id, vault_bridge.loggable_name(e.secret_name), v_caller, v_client, p_access_type,
         e.error_message IS NULL, vault_bridge.loggable_message(e.error_message),
         vault_bridge.loggable_name(p_tenant), vault_bridge.loggable_name(p_token_name)
  FROM ROWS FROM (pg_catalog.unnest(p_secret_ids), pg_catalog.unnest(p_names), pg_catalog.unnest(p_errors))
       AS e(secret_id, secret_name, error_message);
END
$$;
COMMENT ON FUNCTION vault_bridge.log_access(text, uuid[], text[], text[], text, text) IS
  'Internal. Appends one audit row per element (success when its error is NULL), naming the tenant and gateway token when a token made the call; names and messages through loggable_name and loggable_message. Takes no secret values by design.';

CREATE OR REPLACE FUNCTION vault_bridge.log_row(
  p_access_type text,
  p_name text,
  p_error text,
  p_tenant text,
  p_token_name text,
  p_name_count bigint
)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
  INSERT INTO public.vault_access_log
    (secret_name, accessed_by, client, access_type, success, error_message, tenant, token_name, name_count)
  VALUES (vault_bridge.loggable_name(p_name), vault_bridge.request_caller(), vault_bridge.request_client(), p_access_type,
          p_error IS NULL, vault_bridge.loggable_message(p_error), vault_bridge.loggable_name(p_tenant),
          vault_bridge.loggable_name(p_token_name), p_name_count)
$$;
COMMENT ON FUNCTION vault_bridge.log_row(text, text, text, text, text, bigint) IS
  'Internal. Appends one audit row that stands for p_name_count names (a token resolve''s failures, or what its budget kept out), through loggable_name and loggable_message.';

CREATE OR REPLACE FUNCTION vault_bridge.log_access(
  p_access_type text,
  p_secret_ids uuid[],
  p_names text[],
  p_errors text[]
)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.log_access(p_access_type, p_secret_ids, p_names, p_errors, NULL, NULL) $$;
COMMENT ON FUNCTION vault_bridge.log_access(text, uuid[], text[], text[]) IS
  'Internal. log_access for calls made with a project key (no tenant, no token).';

CREATE OR REPLACE FUNCTION vault_bridge.note_hosts()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- A pair already known costs one probe of the primary key (the anti
  -- join) and no write; new pairs go in name order, so two resolves adding
  -- the same pairs cannot deadlock, and ON CONFLICT settles a race.
  INSERT INTO vault_bridge.secret_hosts (secret_name, host, first_at)
  SELECT n.secret_name, n.host, pg_catalog.min(n.accessed_at)
  FROM new_rows AS n
  WHERE n.success AND n.access_type = 'resolve' AND n.host IS NOT NULL AND n.secret_name IS NOT NULL
    AND NOT EXISTS (SELECT FROM vault_bridge.secret_hosts AS h WHERE h.secret_name = n.secret_name AND h.host = n.host)
  GROUP BY n.secret_name, n.host
  ORDER BY n.secret_name, n.host
  ON CONFLICT (secret_name, host) DO NOTHING;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION vault_bridge.note_hosts() IS
  'Internal. Statement trigger on public.vault_access_log: records in secret_hosts the first successful resolve of each (secret, host) pair the statement wrote, once.';
CREATE OR REPLACE TRIGGER vault_access_log_hosts
  AFTER INSERT ON public.vault_access_log
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION vault_bridge.note_hosts();

CREATE OR REPLACE FUNCTION vault_bridge.vault_name(p_tenant text, p_name text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE WHEN p_tenant = vault_bridge.default_tenant() THEN p_name
              ELSE p_tenant || vault_bridge.tenant_separator() || p_name END
$$;
COMMENT ON FUNCTION vault_bridge.vault_name(text, text) IS
  'Internal. The Vault name of a tenant''s secret: the name itself in tenant default, TENANT#NAME elsewhere.';

CREATE OR REPLACE FUNCTION vault_bridge.ensure_tenant(p_tenant text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF p_tenant IS NULL OR p_tenant !~ vault_bridge.tenant_name_pattern() THEN
    PERFORM vault_bridge.fail('token', NULL, NULL,
      pg_catalog.format('tenant %s is not a tenant name', COALESCE(pg_catalog.quote_literal(p_tenant), 'NULL')), '22023',
      'use a lowercase letter or digit, then up to 62 of a-z 0-9 _ -');
  END IF;
  INSERT INTO vault_bridge.tenants (tenant) VALUES (p_tenant) ON CONFLICT (tenant) DO NOTHING;
END
$$;
COMMENT ON FUNCTION vault_bridge.ensure_tenant(text) IS
  'Internal. Checks a tenant name and records the tenant on first use. Called by the token and member entry points and by set_secret.';

CREATE OR REPLACE FUNCTION vault_bridge.like_pattern(p_glob text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT pg_catalog.replace(pg_catalog.replace(
    pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(p_glob, '\', '\\'), '%', '\%'), '_', '\_'),
    '*', '%'), '?', '_')
$$;
COMMENT ON FUNCTION vault_bridge.like_pattern(text) IS
  'Internal. A token allow-list glob (* any run, ? one character, everything else literal, _ and % included) as a LIKE pattern.';

CREATE OR REPLACE FUNCTION vault_bridge.fail(
  p_access_type text,
  p_secret_id uuid,
  p_name text,
  p_message text,
  p_errcode text,
  p_hint text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_message text := vault_bridge.loggable_message(p_message);
BEGIN
  -- The raise below rolls back any audit row of this transaction, so the
  -- failure is recorded in the Postgres log, which survives the rollback.
  RAISE LOG 'vault_bridge audit: access_type=% secret_id=% secret_name=% success=false error=% caller=% client=%',
    p_access_type, p_secret_id, vault_bridge.loggable_name(p_name), v_message,
    vault_bridge.request_caller(), vault_bridge.request_client();
  RAISE EXCEPTION USING MESSAGE = v_message, ERRCODE = p_errcode, HINT = COALESCE(p_hint, '');
END
$$;
COMMENT ON FUNCTION vault_bridge.fail(text, uuid, text, text, text, text) IS
  'Internal. Records a failed access in the Postgres log and raises it, name and message through loggable_name and loggable_message. Messages name the problem, never a value.';

CREATE OR REPLACE FUNCTION vault_bridge.retrieve_version(
  p_access_type text,
  p_secret_id uuid,
  p_name text,
  OUT value text,
  OUT updated_at timestamptz
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_name text;
BEGIN
  IF p_secret_id IS NULL AND p_name IS NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, NULL, 'secret id is NULL', '22004',
      'pass the id returned by store_credential');
  END IF;
  -- The value and its version in one statement, so they are of one row version.
  SELECT d.name, d.decrypted_secret, d.updated_at INTO v_name, value, updated_at
  FROM vault.decrypted_secrets AS d WHERE d.id = p_secret_id;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail(p_access_type, p_secret_id, p_name,
      pg_catalog.format('secret %s not found', COALESCE(p_name, p_secret_id::text)), 'PT404',
      'list_secrets shows what exists');
  END IF;
  PERFORM vault_bridge.log_access(p_access_type, ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
END
$$;
COMMENT ON FUNCTION vault_bridge.retrieve_version(text, uuid, text) IS
  'Internal. Decrypts one secret by id with its version (Vault''s updated_at, read in the same statement) and audits it; raises PT404 (HTTP 404) when it does not exist.';

CREATE OR REPLACE FUNCTION vault_bridge.log_unlogged(p_token_id bigint)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
BEGIN
  SELECT t.* INTO v_token FROM vault_bridge.gateway_tokens AS t WHERE t.id = p_token_id FOR UPDATE;
  IF NOT FOUND OR v_token.unlogged_calls = 0 THEN
    RETURN;
  END IF;
  PERFORM vault_bridge.log_row('resolve', NULL,
    vault_bridge.unlogged_marker() || pg_catalog.format('%s names in %s calls of the window from %s went over this token''s audit budget of %s rows per %s',
                      v_token.unlogged_names, v_token.unlogged_calls, vault_bridge.shown_time(v_token.log_window_start),
                      vault_bridge.token_log_rows(), vault_bridge.shown_interval(vault_bridge.token_log_window())),
    v_token.tenant, v_token.name, v_token.unlogged_names);
  UPDATE vault_bridge.gateway_tokens AS t SET unlogged_names = 0, unlogged_calls = 0 WHERE t.id = p_token_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.log_unlogged(bigint) IS
  'Internal. Writes the one summary row of what a token''s audit budget kept out of the log, if anything, and clears the count. Called by token_budget when a window opens and by revoke_gateway_token.';

CREATE OR REPLACE FUNCTION vault_bridge.wanted_names(p_names text[], p_tenant text, p_allow text[])
RETURNS TABLE (name text, vault_name text, problem text)
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- One row per distinct requested name. With a tenant, a name is looked up
  -- as that tenant's (TENANT#NAME outside default), holds no separator, and
  -- must match a glob of p_allow; in tenant default a glob of only * and ?
  -- matches nothing, since it would reach every Vault secret.
  -- Each glob becomes a LIKE pattern once per call, not once per name.
  WITH patterns AS MATERIALIZED (
    SELECT vault_bridge.like_pattern(a.glob) AS pattern
    FROM pg_catalog.unnest(p_allow) AS a(glob)
    WHERE NOT (p_tenant = vault_bridge.default_tenant() AND vault_bridge.wildcard_only(a.glob))
  )
  SELECT DISTINCT w.name,
         CASE WHEN p_tenant IS NULL THEN w.name ELSE vault_bridge.vault_name(p_tenant, w.name) END,
         COALESCE(vault_bridge.name_problem(w.name),
                  CASE WHEN p_tenant IS NULL THEN NULL
                       WHEN pg_catalog.strpos(w.name, vault_bridge.tenant_separator()) > 0
                         THEN 'a name holds no tenant separator'
                       WHEN NOT EXISTS (SELECT FROM patterns AS p WHERE w.name LIKE p.pattern)
                         THEN 'not allowed for this token' END)
  FROM pg_catalog.unnest(p_names) AS w(name)
$$;
COMMENT ON FUNCTION vault_bridge.wanted_names(text[], text, text[]) IS
  'Internal. The names a caller may ask for, each with its Vault name, or why not: the one home of the tenant and allow-list rule, shared by the resolves (lookup) and the change feed. p_tenant NULL (a project key) takes names as they are, with no allow-list.';
