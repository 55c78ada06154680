-- openclaw-supabase-bridge schema version 8, for `supabase db push` (written by sql/build.py).
-- It runs that version's setup.sql, a few statements per block, unless the database already has a
-- newer schema version: a project set up by pasting a newer setup.sql keeps its newer functions.

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_1$
-- openclaw-supabase-bridge: database side.
--
-- Paste this whole file into the Supabase SQL editor (it runs as role
-- `postgres`, which is not a superuser) and run it. It is idempotent: running
-- it again changes nothing and raises nothing, so it is also the upgrade path.
--
-- Requires the Vault extension (`supabase_vault`, enabled on every Supabase
-- project). Only Vault's stable API is used: vault.create_secret,
-- vault.update_secret, vault.decrypted_secrets and DELETE on vault.secrets.
-- Nothing here touches pgsodium or changes the vault schema.
--
-- Security model, in one place:
--   * Every entry point lives in `public` (the only schema PostgREST exposes)
--     and is SECURITY DEFINER with `search_path = ''`: it runs as its owner
--     (`postgres`), which is what may read Vault, and it names every object
--     with its schema so no caller-controlled search_path can redirect it.
--   * Supabase's default privileges grant ALL on new functions and tables in
--     `public` to anon, authenticated and service_role. Each object in
--     `public` is therefore followed by an explicit REVOKE from PUBLIC, anon
--     and authenticated and a GRANT to service_role only.
--   * Helpers and private state live in schema `vault_bridge`, which no API
--     role can even see. Supabase's default privileges do not reach it; the
--     only default left there is PostgreSQL's EXECUTE for PUBLIC on new
--     functions, which one REVOKE after the last helper (section 6) removes.
--     CREATE OR REPLACE keeps a function's privileges, so a re-run re-grants
--     nothing.
--   * Every call writes a row to public.vault_access_log; no secret value is
--     ever written there. A call that raises is rolled back with its own
--     transaction (PostgreSQL has no autonomous transactions), so such
--     failures are also emitted with RAISE LOG to the Postgres log, which
--     Supabase keeps in its Logs Explorer. The bridge's hot path,
--     resolve_secrets, never raises for a single name: a missing or invalid
--     name is an audit row with success = false.
--
-- Versions and upgrades:
--   * vault_bridge.schema_migrations records each applied schema version;
--     public.vault_bridge_version() returns the highest.
--   * Tables, constraints and indexes change only in the numbered steps of
--     section 4.
--     Each step runs once, when its version is not yet recorded, alters what
--     exists in place and records its version in the same transaction. A
--     fresh install runs every step in order, so it ends up exactly where an
--     upgraded database does. To change a table: append a step, never edit
--     an applied one, and raise the version in the guard of section 2 and
--     SCHEMA_VERSION in bridge/__init__.py.
--   * Functions, comments and privileges are (re)defined on every run, after
--     the steps.
--   * Running an older setup.sql on a newer database would replace newer
--     functions with older ones; the guard of section 2 refuses that.
--
-- Limits are named once, as the functions of section 3; everything else
-- reads them there.

-- ---------------------------------------------------------------------------
-- 1. Private schema
-- ---------------------------------------------------------------------------

CREATE SCHEMA IF NOT EXISTS vault_bridge;
COMMENT ON SCHEMA vault_bridge IS
  'openclaw-supabase-bridge internals: helpers called by the public entry points. No API role has access.';
REVOKE ALL ON SCHEMA vault_bridge FROM PUBLIC, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- 2. Schema version record
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS vault_bridge.schema_migrations (
  version     integer PRIMARY KEY,
  applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  description text NOT NULL
);

-- Refuse to run over a newer schema: this file would replace its functions
-- with older ones. Raise the number when appending a step to section 4.
DO $guard$
DECLARE
  v_this_file CONSTANT integer := 8;
  v_installed integer := (SELECT pg_catalog.max(m.version) FROM vault_bridge.schema_migrations AS m);
BEGIN
  IF v_installed > v_this_file THEN
    RAISE EXCEPTION USING
      ERRCODE = '55000',
      MESSAGE = pg_catalog.format(
        'this database has vault_bridge schema version %s, newer than this setup.sql (version %s)',
        v_installed, v_this_file),
      HINT = 'run the setup.sql of the bridge release that installed it, or a newer one';
  END IF;
END
$guard$;

COMMENT ON TABLE vault_bridge.schema_migrations IS
  'openclaw-supabase-bridge: one row per applied setup.sql schema version. Written only by setup.sql.';
REVOKE ALL ON TABLE vault_bridge.schema_migrations FROM PUBLIC, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- 3. Limits and named lists (the values are written here and nowhere else)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vault_bridge.max_name_chars()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 256 $$;
COMMENT ON FUNCTION vault_bridge.max_name_chars() IS
  'Internal. Longest secret name in characters (OpenClaw''s exec id limit). Read by the helpers and entry points.';

CREATE OR REPLACE FUNCTION vault_bridge.max_names_per_call()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 512 $$;
COMMENT ON FUNCTION vault_bridge.max_names_per_call() IS
  'Internal. Most names one resolve_secrets call takes (OpenClaw''s maxRefsPerProvider). Read by resolve_secrets.';

CREATE OR REPLACE FUNCTION vault_bridge.max_header_chars()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 200 $$;
$setup_v8_1$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_2$
COMMENT ON FUNCTION vault_bridge.max_header_chars() IS
  'Internal. Characters kept of each request header copied into the audit log. Read by request_client and read_access_log.';

CREATE OR REPLACE FUNCTION vault_bridge.max_log_rows()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 10000 $$;
COMMENT ON FUNCTION vault_bridge.max_log_rows() IS
  'Internal. Most audit rows one read_access_log call returns (a larger p_limit is lowered to it). Read by read_access_log.';

CREATE OR REPLACE FUNCTION vault_bridge.max_log_name_chars()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 64 $$;
COMMENT ON FUNCTION vault_bridge.max_log_name_chars() IS
  'Internal. Characters kept of a name the audit log cannot hold as it is (too long, or holding a control character), before the marker that says so. Read by loggable_name.';

CREATE OR REPLACE FUNCTION vault_bridge.max_error_chars()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 1024 $$;
COMMENT ON FUNCTION vault_bridge.max_error_chars() IS
  'Internal. Characters kept of an error message written to the audit log or the Postgres log. Read by loggable_message.';

CREATE OR REPLACE FUNCTION vault_bridge.token_log_rows()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 4096 $$;
COMMENT ON FUNCTION vault_bridge.token_log_rows() IS
  'Internal. Itemised audit rows one gateway token may write per token_log_window(); calls beyond it are answered but counted on the token row instead, and summed up in one row when the next window opens. Read by log_token_resolve.';

CREATE OR REPLACE FUNCTION vault_bridge.token_log_window()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '1 hour' $$;
COMMENT ON FUNCTION vault_bridge.token_log_window() IS
  'Internal. The window of a gateway token''s audit budget (token_log_rows()); it opens with the first call after the last one closed. Read by log_token_resolve.';

CREATE OR REPLACE FUNCTION vault_bridge.control_characters()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT '[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]' $$;
COMMENT ON FUNCTION vault_bridge.control_characters() IS
  'Internal. A regular expression class of the characters no name may hold and no log line shows raw: C0 and C1 controls, DEL, the Unicode bidi marks, overrides and isolates and the line and paragraph separators (they forge lines and reorder text on a terminal): the same list as bridge/core/text.py. Read by name_problem and escaped.';

CREATE OR REPLACE FUNCTION vault_bridge.tenant_name_pattern()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT '^[a-z0-9][a-z0-9_-]{0,62}$' $$;
COMMENT ON FUNCTION vault_bridge.tenant_name_pattern() IS
  'Internal. What a tenant name is (the tenants table CHECK of version 4 holds the same). Read by ensure_tenant and tenant_of.';

CREATE OR REPLACE FUNCTION vault_bridge.tenant_separator()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT '#' $$;
COMMENT ON FUNCTION vault_bridge.tenant_separator() IS
  'Internal. Between tenant and name in the Vault name of a secret outside tenant default (acme#OPENAI_API_KEY); a ref id never holds it in a name, where it starts a field selector. Read by vault_name and the overview.';

CREATE OR REPLACE FUNCTION vault_bridge.default_tenant()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 'default' $$;
COMMENT ON FUNCTION vault_bridge.default_tenant() IS
  'Internal. The tenant of every secret whose Vault name has no tenant prefix: all secrets made before tenants existed. Read by the tenant helpers.';

CREATE OR REPLACE FUNCTION vault_bridge.access_types()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT ARRAY['store', 'retrieve', 'rotate', 'delete', 'list', 'resolve', 'audit', 'token', 'member', 'test', 'policy'] $$;
COMMENT ON FUNCTION vault_bridge.access_types() IS
  'Internal. Every vault_access_log.access_type value. The table''s CHECK is built from this list by the setup.sql version step that last changed it; a new value needs a new step.';

CREATE OR REPLACE FUNCTION vault_bridge.secret_types()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT ARRAY['openai', 'anthropic', 'gemini', 'openrouter', 'gcp-service-account', 'aws', 'azure', 'generic'] $$;
COMMENT ON FUNCTION vault_bridge.secret_types() IS
  'Internal. Every secret_meta.type (bridge/core/secret_types.py SECRET_TYPES). The CHECK on secret_meta.type is built from this list by the step that last changed it; a new type needs a new step.';

CREATE OR REPLACE FUNCTION vault_bridge.default_rotate_every(p_type text)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE WHEN p_type = ANY (ARRAY['openai', 'anthropic', 'gemini', 'openrouter']) THEN interval '90 days'
              WHEN p_type = ANY (ARRAY['gcp-service-account', 'aws', 'azure']) THEN interval '180 days' END
$$;
COMMENT ON FUNCTION vault_bridge.default_rotate_every(text) IS
  'Internal. The rotation interval a type gets unless one is given: API keys every 90 days, service credentials every 180 days, generic secrets never (NULL).';

CREATE OR REPLACE FUNCTION vault_bridge.check_statuses()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT ARRAY['ok', 'invalid', 'unreachable'] $$;
COMMENT ON FUNCTION vault_bridge.check_statuses() IS
  'Internal. The outcomes of `bridge secrets test`: the provider accepted the credential, refused it, or could not be asked.';

CREATE OR REPLACE FUNCTION vault_bridge.max_check_message_chars()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 240 $$;
$setup_v8_2$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_3$
COMMENT ON FUNCTION vault_bridge.max_check_message_chars() IS
  'Internal. Longest stored message of a provider test: one line a listing can show.';

CREATE OR REPLACE FUNCTION vault_bridge.max_policy_interval()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '36600 days' $$;
COMMENT ON FUNCTION vault_bridge.max_policy_interval() IS
  'Internal. Longest rotation interval (a century): longer is a typo, and would overflow the dates it is added to.';

CREATE OR REPLACE FUNCTION vault_bridge.timestamp_pattern()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' $$;
COMMENT ON FUNCTION vault_bridge.timestamp_pattern() IS
  'Internal. An expiry as set_secret takes it: ISO 8601 date and time with its offset, nothing PostgreSQL would read in a session time zone.';

CREATE OR REPLACE FUNCTION vault_bridge.due_window()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '7 days' $$;
COMMENT ON FUNCTION vault_bridge.due_window() IS
  'Internal. A secret whose rotation or expiry falls within this is due: the reminder comes a week ahead.';

CREATE OR REPLACE FUNCTION vault_bridge.usage_window()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '30 days' $$;
COMMENT ON FUNCTION vault_bridge.usage_window() IS
  'Internal. The period over which list_secrets_status counts uses, failures and gateways.';

CREATE OR REPLACE FUNCTION vault_bridge.alert_failures()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 5 $$;
COMMENT ON FUNCTION vault_bridge.alert_failures() IS
  'Internal. More failed accesses than this to one name, or with one gateway token, within alert_failure_window() is an alert.';

CREATE OR REPLACE FUNCTION vault_bridge.alert_failure_window()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '1 hour' $$;
COMMENT ON FUNCTION vault_bridge.alert_failure_window() IS
  'Internal. The sliding window within which alert_failures() failed accesses are counted.';

CREATE OR REPLACE FUNCTION vault_bridge.unused_token_after()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '90 days' $$;
COMMENT ON FUNCTION vault_bridge.unused_token_after() IS
  'Internal. An active gateway token unused for this long is an alert: a forgotten token is one nobody watches.';

CREATE OR REPLACE FUNCTION vault_bridge.change_settle()
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT interval '5 minutes' $$;
COMMENT ON FUNCTION vault_bridge.change_settle() IS
  'Internal. How far before its p_since the change feed looks: a rotation stamps updated_at when its transaction starts and is seen only once it commits, so one that commits late is still reported; the caller tells a change it has seen by its time.';

CREATE OR REPLACE FUNCTION vault_bridge.unlogged_marker()
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 'not itemised: ' $$;
COMMENT ON FUNCTION vault_bridge.unlogged_marker() IS
  'Internal. How the summary row of a token''s over-budget calls begins: it is not a failed access, and the alerts leave it out.';

-- ---------------------------------------------------------------------------
-- 4. Versioned steps (ordered; each runs once)
-- ---------------------------------------------------------------------------

-- Version 1: the audit log as the first release created it, with that
-- release's access_type list (history: never edit an applied step). On a
-- database set up by that release the table exists and this step only
-- records it.
DO $step$
DECLARE
  v_version CONSTANT integer := 1;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE IF NOT EXISTS public.vault_access_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret_id     uuid,
    secret_name   text,
    accessed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    "session_user" text NOT NULL DEFAULT SESSION_USER,
    accessed_by   jsonb,
    client        jsonb,
    access_type   text NOT NULL,
    success       boolean NOT NULL,
    error_message text,
    CONSTRAINT vault_access_log_access_type_check CHECK (access_type IN
      ('store', 'retrieve', 'rotate', 'delete', 'list', 'resolve'))
  );
  CREATE INDEX IF NOT EXISTS vault_access_log_accessed_at_idx
    ON public.vault_access_log (accessed_at);
  CREATE INDEX IF NOT EXISTS vault_access_log_secret_name_idx
    ON public.vault_access_log (secret_name, accessed_at);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'audit log public.vault_access_log');
END
$step$;

-- Version 2: the access_type CHECK is rebuilt in place from
-- vault_bridge.access_types(), which adds 'audit'. Existing rows are
-- re-checked against the new list.
DO $step$
DECLARE
  v_version CONSTANT integer := 2;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'access_type CHECK built from vault_bridge.access_types(), adding audit');
END
$step$;
$setup_v8_3$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_4$

-- Version 3: the admin functions (set_secret, list_secrets_usage,
-- read_access_log, defined in section 10). Their per-name lookups use the
-- (secret_name, accessed_at) index of version 1; failures are rare among
-- audit rows, so "newest failures first" gets a partial index of its own
-- instead of a backward walk over every successful resolve.
DO $step$
DECLARE
  v_version CONSTANT integer := 3;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE INDEX IF NOT EXISTS vault_access_log_failures_idx
    ON public.vault_access_log (accessed_at, id) WHERE NOT success;
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'admin functions set_secret, list_secrets_usage, read_access_log; index on failed accesses');
END
$step$;

-- Version 4: tenants, gateway tokens and tenant members. Secrets keep living
-- in Vault only: a secret of tenant T other than default is named
-- T#NAME there. Tokens are kept as sha256 hashes, never as tokens. Audit
-- rows gain the tenant and the token that resolved, and the access_type
-- CHECK is rebuilt for the new 'token' and 'member' types.
DO $step$
DECLARE
  v_version CONSTANT integer := 4;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE vault_bridge.tenants (
    tenant     text PRIMARY KEY CONSTRAINT tenants_tenant_check CHECK (tenant ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
  );
  INSERT INTO vault_bridge.tenants (tenant) VALUES ('default');
  CREATE TABLE vault_bridge.tenant_members (
    tenant   text NOT NULL REFERENCES vault_bridge.tenants (tenant),
    user_id  uuid NOT NULL,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, user_id)
  );
  CREATE INDEX tenant_members_user_idx ON vault_bridge.tenant_members (user_id);
  CREATE TABLE vault_bridge.gateway_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       text NOT NULL REFERENCES vault_bridge.tenants (tenant),
    name         text NOT NULL CONSTRAINT gateway_tokens_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    token_sha256 bytea NOT NULL UNIQUE CONSTRAINT gateway_tokens_hash_check CHECK (pg_catalog.length(token_sha256) = 32),
    allow        text[] NOT NULL DEFAULT ARRAY['*'],
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    UNIQUE (tenant, name)
  );
  ALTER TABLE public.vault_access_log ADD COLUMN tenant text, ADD COLUMN token_name text;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  -- read_access_log returns the new columns: a changed result type needs a new function.
  DROP FUNCTION IF EXISTS public.read_access_log(timestamptz, text, boolean, integer);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'tenants, gateway tokens, tenant members; audit rows name tenant and token');
END
$step$;

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
$setup_v8_4$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_5$

-- Version 6: the secret lifecycle. vault_bridge.secret_meta holds, per Vault
-- secret id and never with a value, its type, rotation interval, expiry,
-- when its value last changed and the outcome of the last provider test.
-- Secrets that exist become generic, with rotated_at their updated_at (the
-- best date there is). The access_type CHECK is rebuilt for 'test' and
-- 'policy'. Audit rows gain host as a stored column, and the per-name index
-- becomes a covering one, so status, use and alerts read the index only
-- (one index replaces the other: a resolve's insert maintains as many as
-- before). set_secret takes p_meta and list_secrets_usage gives way to
-- list_secrets_status: a changed signature needs the old one dropped, or
-- PostgREST could not choose between them.
DO $step$
DECLARE
  v_version CONSTANT integer := 6;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE vault_bridge.secret_meta (
    secret_id     uuid PRIMARY KEY,
    type          text NOT NULL DEFAULT 'generic',
    rotate_every  interval CONSTRAINT secret_meta_rotate_every_check CHECK (rotate_every > interval '0'),
    expires_at    timestamptz,
    rotated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    checked_at    timestamptz,
    check_status  text,
    check_message text,
    CONSTRAINT secret_meta_checked_check CHECK ((checked_at IS NULL) = (check_status IS NULL))
  );
  EXECUTE pg_catalog.format(
    'ALTER TABLE vault_bridge.secret_meta ADD CONSTRAINT secret_meta_type_check CHECK (type = ANY (%L::text[]))',
    vault_bridge.secret_types());
  EXECUTE pg_catalog.format(
    'ALTER TABLE vault_bridge.secret_meta ADD CONSTRAINT secret_meta_check_status_check CHECK (check_status = ANY (%L::text[]))',
    vault_bridge.check_statuses());
  INSERT INTO vault_bridge.secret_meta (secret_id, type, rotated_at)
  SELECT s.id, 'generic', s.updated_at FROM vault.secrets AS s;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  ALTER TABLE public.vault_access_log ADD COLUMN host text GENERATED ALWAYS AS (client ->> 'host') STORED;
  DROP INDEX IF EXISTS public.vault_access_log_secret_name_idx;
  CREATE INDEX vault_access_log_secret_name_idx ON public.vault_access_log (secret_name, accessed_at)
    INCLUDE (access_type, success, name_count, tenant, token_name, host);
  DROP FUNCTION IF EXISTS public.set_secret(text, text, text);
  DROP FUNCTION IF EXISTS public.list_secrets_usage(text);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'secret lifecycle: types, rotation policy, provider test results; covering audit index with host');
END
$step$;

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

-- ---------------------------------------------------------------------------
-- 5. Audit log: documentation and privileges (every run)
-- ---------------------------------------------------------------------------

COMMENT ON TABLE public.vault_access_log IS
  'One row per secret access through the openclaw-supabase-bridge functions. Never holds a secret value. Readable by service_role only; written only by the SECURITY DEFINER functions.';
COMMENT ON COLUMN public.vault_access_log.accessed_by IS
  'role and sub from request.jwt.claims when the call came through the API; NULL for direct SQL.';
COMMENT ON COLUMN public.vault_access_log.client IS
  'user_agent, host and provider from request headers when present (credentials headers are never copied).';

ALTER TABLE public.vault_access_log ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.vault_access_log FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vault_access_log TO service_role;
REVOKE ALL ON SEQUENCE public.vault_access_log_id_seq FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON COLUMN public.vault_access_log.tenant IS
  'The tenant a gateway token resolved for; NULL for calls made with the project''s secret or service_role key.';
COMMENT ON COLUMN public.vault_access_log.name_count IS
  'How many requested names the row stands for: 1 for an itemised row, every failed name of one token resolve in its one failure row, or the names a token''s audit budget kept out of the log.';
COMMENT ON COLUMN public.vault_access_log.token_name IS
  'The name of the gateway token that resolved (never the token); NULL for calls made with a project key.';
COMMENT ON COLUMN public.vault_access_log.host IS
  'The X-Bridge-Host the call came from (client ->> ''host''), stored so the covering per-name index answers use and alerts alone.';
$setup_v8_5$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_6$
REVOKE ALL ON TABLE vault_bridge.tenants, vault_bridge.tenant_members, vault_bridge.gateway_tokens, vault_bridge.secret_meta
  FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON TABLE vault_bridge.secret_meta IS
  'Per Vault secret id: its type, rotation interval, expiry, when its value last changed (rotated_at) and the last provider test. Never a value; a secret without a row is generic, changed at its Vault updated_at.';

-- ---------------------------------------------------------------------------
-- 6. Private helpers
-- ---------------------------------------------------------------------------

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
$setup_v8_6$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_7$

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
$setup_v8_7$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_8$

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

CREATE OR REPLACE FUNCTION vault_bridge.secret_policies(p_prefix text, p_names text[], p_within interval)
RETURNS TABLE (
  secret_id uuid,
  name text,
  description text,
  created_at timestamptz,
  updated_at timestamptz,
  type text,
  check_status text,
  checked_at timestamptz,
  check_message text,
  rotated_at timestamptz,
  rotate_every interval,
  expires_at timestamptz,
  due text,
  due_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- The due rule, computed in this one query for every row at once (a
  -- helper called per row would cost a function call each, ten thousand
  -- times for a large vault). Reads vault.secrets, never the decrypted view.
  -- A secret stored outside the bridge has no metadata: it is generic,
  -- changed when Vault last changed it.
  SELECT v.id, v.name, v.description, v.created_at, v.updated_at, COALESCE(m.type, 'generic'),
         m.check_status, m.checked_at, m.check_message, r.rotated_at, m.rotate_every, m.expires_at,
         CASE WHEN m.expires_at <= pg_catalog.now() THEN 'expired'
              WHEN r.rotated_at + m.rotate_every <= pg_catalog.now() THEN 'overdue'
              WHEN LEAST(m.expires_at, r.rotated_at + m.rotate_every) <= pg_catalog.now() + p_within THEN 'due'
              ELSE 'ok' END,
         LEAST(m.expires_at, r.rotated_at + m.rotate_every)
  FROM vault.secrets AS v
  LEFT JOIN vault_bridge.secret_meta AS m ON m.secret_id = v.id
  CROSS JOIN LATERAL (SELECT COALESCE(m.rotated_at, v.updated_at) AS rotated_at) AS r
  WHERE v.name IS NOT NULL
    AND (p_prefix IS NULL OR pg_catalog.starts_with(v.name, p_prefix))
    AND (p_names IS NULL OR v.name = ANY (p_names))
$$;
COMMENT ON FUNCTION vault_bridge.secret_policies(text, text[], interval) IS
  'Internal. The named secrets (by literal prefix, or these Vault names, or all) with type, last test, rotation and expiry, and when each next needs a value (due_at: its expiry or next rotation, whichever is first) and its state: expired, overdue, due (within p_within) or ok. The one place the due rule is written.';
$setup_v8_8$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_9$

CREATE OR REPLACE FUNCTION vault_bridge.check_meta(p_access_type text, p_name text, p_meta jsonb)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_key text;
  v_every jsonb := p_meta -> 'rotate_every_s';
  v_expires jsonb := p_meta -> 'expires_at';
  v_when timestamptz;
BEGIN
  IF p_meta IS NULL THEN
    RETURN;
  END IF;
  IF pg_catalog.jsonb_typeof(p_meta) <> 'object' THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta is not a JSON object', '22023',
      'pass {"type": …, "rotate_every_s": …, "expires_at": …} or NULL');
  END IF;
  SELECT k INTO v_key FROM pg_catalog.jsonb_object_keys(p_meta) AS k
  WHERE k <> ALL (ARRAY['type', 'rotate_every_s', 'expires_at']) LIMIT 1;
  IF v_key IS NOT NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name,
      pg_catalog.format('p_meta key %s is not known', pg_catalog.quote_literal(pg_catalog.left(v_key, 64))), '22023',
      'the keys are type, rotate_every_s and expires_at');
  END IF;
  IF p_meta ? 'type' AND (pg_catalog.jsonb_typeof(p_meta -> 'type') <> 'string'
                          OR NOT (p_meta ->> 'type') = ANY (vault_bridge.secret_types())) THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta type is not a secret type', '22023',
      'one of ' || pg_catalog.array_to_string(vault_bridge.secret_types(), ', '));
  END IF;
  IF v_every IS NOT NULL AND pg_catalog.jsonb_typeof(v_every) <> 'null'
     AND (pg_catalog.jsonb_typeof(v_every) <> 'number' OR (v_every #>> '{}')::numeric < 1
          OR (v_every #>> '{}')::numeric <> pg_catalog.trunc((v_every #>> '{}')::numeric)
          OR (v_every #>> '{}')::numeric > EXTRACT(epoch FROM vault_bridge.max_policy_interval())) THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta rotate_every_s is not a whole number of seconds from 1', '22023',
      pg_catalog.format('pass whole seconds up to %s, or null for no rotation schedule', vault_bridge.max_policy_interval()));
  END IF;
  -- Only ISO 8601 with an offset: PostgreSQL would also take 'now',
  -- 'epoch', a date in the session's time zone or a year 200000.
  IF v_expires IS NOT NULL AND pg_catalog.jsonb_typeof(v_expires) <> 'null' THEN
    BEGIN
      IF pg_catalog.jsonb_typeof(v_expires) <> 'string' OR (v_expires #>> '{}') !~ vault_bridge.timestamp_pattern() THEN
        RAISE invalid_datetime_format;
      END IF;
      v_when := (v_expires #>> '{}')::timestamptz;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
      v_when := NULL;
    END;
    IF v_when IS NULL OR NOT v_when BETWEEN pg_catalog.now() - vault_bridge.max_policy_interval()
                                        AND pg_catalog.now() + vault_bridge.max_policy_interval() THEN
      PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta expires_at is not a timestamp within a century of now', '22023',
        'pass an ISO 8601 timestamp with its offset (2027-03-31T00:00:00Z), or null for no expiry');
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION vault_bridge.check_meta(text, text, jsonb) IS
  'Internal. Raises (and logs) when set_secret''s p_meta is not {type?, rotate_every_s?, expires_at?} with a known type, a positive interval and a timestamp, before anything is changed.';

CREATE OR REPLACE FUNCTION vault_bridge.apply_meta(
  p_secret_id uuid,
  p_meta jsonb,
  p_new_value boolean,
  p_rotated_at timestamptz
)
RETURNS vault_bridge.secret_meta
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_old vault_bridge.secret_meta%ROWTYPE;
  v_new vault_bridge.secret_meta%ROWTYPE;
  v_known boolean;
BEGIN
  SELECT m.* INTO v_old FROM vault_bridge.secret_meta AS m WHERE m.secret_id = p_secret_id FOR UPDATE;
  v_known := FOUND;
  v_new.secret_id := p_secret_id;
  v_new.type := COALESCE(p_meta ->> 'type', v_old.type, 'generic');
  -- A new type brings its own schedule unless one is given; an unchanged one keeps what was set.
  v_new.rotate_every := CASE
    WHEN p_meta ? 'rotate_every_s' THEN pg_catalog.make_interval(secs => (p_meta ->> 'rotate_every_s')::double precision)
    WHEN NOT v_known OR v_new.type IS DISTINCT FROM v_old.type THEN vault_bridge.default_rotate_every(v_new.type)
    ELSE v_old.rotate_every END;
  -- An expiry is the value's: a new one has its own, or none until told.
  v_new.expires_at := CASE WHEN p_meta ? 'expires_at' THEN (p_meta ->> 'expires_at')::timestamptz
                           WHEN p_new_value THEN NULL ELSE v_old.expires_at END;
  v_new.rotated_at := CASE WHEN p_new_value THEN pg_catalog.now() ELSE COALESCE(v_old.rotated_at, p_rotated_at) END;
  -- A test result speaks of one value as one type: a new value or type voids it.
  IF NOT p_new_value AND v_new.type = v_old.type THEN
    v_new.checked_at := v_old.checked_at;
    v_new.check_status := v_old.check_status;
    v_new.check_message := v_old.check_message;
  END IF;
  INSERT INTO vault_bridge.secret_meta AS m
    (secret_id, type, rotate_every, expires_at, rotated_at, checked_at, check_status, check_message)
  VALUES (v_new.secret_id, v_new.type, v_new.rotate_every, v_new.expires_at, v_new.rotated_at,
          v_new.checked_at, v_new.check_status, v_new.check_message)
  ON CONFLICT (secret_id) DO UPDATE
    SET type = EXCLUDED.type, rotate_every = EXCLUDED.rotate_every, expires_at = EXCLUDED.expires_at,
        rotated_at = EXCLUDED.rotated_at, checked_at = EXCLUDED.checked_at, check_status = EXCLUDED.check_status,
        check_message = EXCLUDED.check_message;
  RETURN v_new;
END
$$;
COMMENT ON FUNCTION vault_bridge.apply_meta(uuid, jsonb, boolean, timestamptz) IS
  'Internal. Records a secret''s metadata after a store, a rotation or a policy change: p_meta (checked by check_meta) over what was recorded; a new value resets rotated_at and clears the expiry (unless p_meta gives one), and a new value or type clears the last test. p_rotated_at is the date a secret without a record gets when its value is kept.';
$setup_v8_9$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_10$

CREATE OR REPLACE FUNCTION vault_bridge.meta_answer(p_secret_id uuid, p_created boolean, p_meta vault_bridge.secret_meta)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT pg_catalog.jsonb_build_object(
    'id', p_secret_id, 'created', p_created, 'type', p_meta.type,
    'rotate_every', EXTRACT(epoch FROM p_meta.rotate_every)::bigint,
    'expires_at', p_meta.expires_at, 'rotated_at', p_meta.rotated_at)
$$;
COMMENT ON FUNCTION vault_bridge.meta_answer(uuid, boolean, vault_bridge.secret_meta) IS
  'Internal. What set_secret answers: the id, whether it was created, and the metadata now recorded (rotate_every in seconds).';

CREATE OR REPLACE FUNCTION vault_bridge.check_store(p_name text, p_secret text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_problem text := vault_bridge.name_problem(p_name);
BEGIN
  IF v_problem IS NOT NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, v_problem, '22023',
      pg_catalog.format('pass a name of 1 to %s characters without control characters', vault_bridge.max_name_chars()));
  END IF;
  IF p_secret IS NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, 'secret value is NULL', '22004',
      'pass the secret as p_secret');
  END IF;
END
$$;
COMMENT ON FUNCTION vault_bridge.check_store(text, text) IS
  'Internal. Raises (and logs) when a name or value cannot be stored. Called by store and set_secret.';

CREATE OR REPLACE FUNCTION vault_bridge.store(
  p_name text,
  p_secret text,
  p_description text
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
BEGIN
  PERFORM vault_bridge.check_store(p_name, p_secret);
  BEGIN
    v_id := vault.create_secret(p_secret, p_name, COALESCE(p_description, ''));
  EXCEPTION WHEN unique_violation THEN
    PERFORM vault_bridge.fail('store', NULL, p_name,
      pg_catalog.format('a secret named %s already exists', p_name), '23505',
      'rotate it (rotate_secret) or delete it first');
  END;
  PERFORM vault_bridge.apply_meta(v_id, NULL, true, NULL);
  PERFORM vault_bridge.log_access('store', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.store(text, text, text) IS
  'Internal. Creates a named Vault secret (a generic one, in secret_meta) and audits it; shared by store_credential and store_secret.';

CREATE OR REPLACE FUNCTION vault_bridge.id_by_name(p_access_type text, p_name text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_problem text := vault_bridge.name_problem(p_name);
  v_id uuid;
BEGIN
  IF v_problem IS NOT NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, v_problem, '22023',
      pg_catalog.format('pass a name of 1 to %s characters without control characters', vault_bridge.max_name_chars()));
  END IF;
  SELECT s.id INTO v_id FROM vault.secrets AS s WHERE s.name = p_name;
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.id_by_name(text, text) IS
  'Internal. Validates a name and returns its Vault id, or NULL when no secret has that name.';

CREATE OR REPLACE FUNCTION vault_bridge.retrieve(p_access_type text, p_secret_id uuid, p_name text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_name text;
  v_value text;
BEGIN
  IF p_secret_id IS NULL AND p_name IS NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, NULL, 'secret id is NULL', '22004',
      'pass the id returned by store_credential');
  END IF;
  SELECT d.name, d.decrypted_secret INTO v_name, v_value
  FROM vault.decrypted_secrets AS d WHERE d.id = p_secret_id;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail(p_access_type, p_secret_id, p_name,
      pg_catalog.format('secret %s not found', COALESCE(p_name, p_secret_id::text)), 'PT404',
      'list_secrets shows what exists');
  END IF;
  PERFORM vault_bridge.log_access(p_access_type, ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
  RETURN v_value;
END
$$;
COMMENT ON FUNCTION vault_bridge.retrieve(text, uuid, text) IS
  'Internal. Decrypts one secret by id and audits it; raises PT404 (HTTP 404) when it does not exist.';

CREATE OR REPLACE FUNCTION vault_bridge.rotate(p_access_type text, p_secret_id uuid, p_name text, p_new_secret text)
RETURNS void
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
  IF p_new_secret IS NULL THEN
    PERFORM vault_bridge.fail(p_access_type, p_secret_id, p_name, 'new secret value is NULL', '22004',
      'pass the new secret as p_new_secret');
  END IF;
  SELECT s.name INTO v_name FROM vault.secrets AS s WHERE s.id = p_secret_id;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail(p_access_type, p_secret_id, p_name,
      pg_catalog.format('secret %s not found', COALESCE(p_name, p_secret_id::text)), 'PT404',
      'store it first (store_secret)');
  END IF;
  PERFORM vault.update_secret(p_secret_id, p_new_secret);
  PERFORM vault_bridge.apply_meta(p_secret_id, NULL, true, NULL);
  PERFORM vault_bridge.log_access(p_access_type, ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
END
$$;
COMMENT ON FUNCTION vault_bridge.rotate(text, uuid, text, text) IS
  'Internal. Replaces a secret value in place (same id), resets its rotated_at and audits it; raises PT404 when it does not exist.';
$setup_v8_10$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_11$

CREATE OR REPLACE FUNCTION vault_bridge.delete(p_secret_id uuid, p_name text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_name text;
BEGIN
  IF p_secret_id IS NULL AND p_name IS NULL THEN
    PERFORM vault_bridge.fail('delete', NULL, NULL, 'secret id is NULL', '22004',
      'pass the id returned by store_credential');
  END IF;
  DELETE FROM vault.secrets AS s WHERE s.id = p_secret_id RETURNING s.name INTO v_name;
  IF NOT FOUND THEN
    PERFORM vault_bridge.log_access('delete', ARRAY[p_secret_id], ARRAY[p_name],
      ARRAY[pg_catalog.format('secret %s not found', COALESCE(p_name, p_secret_id::text))]);
    RETURN false;
  END IF;
  DELETE FROM vault_bridge.secret_meta AS m WHERE m.secret_id = p_secret_id;
  PERFORM vault_bridge.log_access('delete', ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
  RETURN true;
END
$$;
COMMENT ON FUNCTION vault_bridge.delete(uuid, text) IS
  'Internal. Deletes a secret and its metadata if it exists (a missing one is an audited no-op) and reports whether it did.';

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
                      v_token.unlogged_names, v_token.unlogged_calls, v_token.log_window_start,
                      vault_bridge.token_log_rows(), vault_bridge.token_log_window()),
    v_token.tenant, v_token.name, v_token.unlogged_names);
  UPDATE vault_bridge.gateway_tokens AS t SET unlogged_names = 0, unlogged_calls = 0 WHERE t.id = p_token_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.log_unlogged(bigint) IS
  'Internal. Writes the one summary row of what a token''s audit budget kept out of the log, if anything, and clears the count. Called by token_budget when a window opens and by revoke_gateway_token.';

CREATE OR REPLACE FUNCTION vault_bridge.token_budget(p_token_id bigint, p_rows integer, p_names integer, p_used boolean)
RETURNS vault_bridge.gateway_tokens
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
  v_itemised boolean;
BEGIN
  -- The row lock orders concurrent calls of one token, so the budget holds.
  SELECT t.* INTO v_token FROM vault_bridge.gateway_tokens AS t WHERE t.id = p_token_id FOR UPDATE;
  IF v_token.log_window_start IS NULL OR v_token.log_window_start <= pg_catalog.now() - vault_bridge.token_log_window() THEN
    PERFORM vault_bridge.log_unlogged(p_token_id);
    v_token.log_window_start := pg_catalog.now();
    v_token.log_window_rows := 0;
  END IF;
  v_itemised := v_token.log_window_rows + p_rows <= vault_bridge.token_log_rows();
  UPDATE vault_bridge.gateway_tokens AS t
  SET last_used_at = CASE WHEN p_used THEN pg_catalog.now() ELSE t.last_used_at END,
      log_window_start = v_token.log_window_start,
      log_window_rows = v_token.log_window_rows + CASE WHEN v_itemised THEN p_rows ELSE 0 END,
      unlogged_names = t.unlogged_names + CASE WHEN v_itemised THEN 0 ELSE p_names END,
      unlogged_calls = t.unlogged_calls + CASE WHEN v_itemised THEN 0 ELSE 1 END
  WHERE t.id = p_token_id
  RETURNING t.* INTO v_token;
  -- What the caller may write: the token's row, or NULL when the budget is spent.
  RETURN CASE WHEN v_itemised THEN v_token END;
END
$$;
COMMENT ON FUNCTION vault_bridge.token_budget(bigint, integer, integer, boolean) IS
  'Internal. Charges p_rows audit rows to a token''s budget of token_log_rows() per token_log_window() and returns the token row when they fit (NULL when not: the call is counted on the token row instead, p_names names, and written as one summary row when the next window opens). p_used records last_used_at.';

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
  v_token vault_bridge.gateway_tokens%ROWTYPE;
  v_found integer := COALESCE(pg_catalog.cardinality(p_found_ids), 0);
  v_failed integer := COALESCE(pg_catalog.cardinality(p_failed_names), 0);
BEGIN
  v_token := vault_bridge.token_budget(p_token_id, v_found + CASE WHEN v_failed > 0 THEN 1 ELSE 0 END, v_found + v_failed, true);
  IF v_token.id IS NULL THEN
    RETURN;
  END IF;
  PERFORM vault_bridge.log_access('resolve', p_found_ids, p_found_names,
    ARRAY(SELECT NULL::text FROM pg_catalog.generate_series(1, v_found)), v_token.tenant, v_token.name);
  IF v_failed = 1 THEN
    PERFORM vault_bridge.log_row('resolve', p_failed_names[1], p_problems[1], v_token.tenant, v_token.name, 1);
  ELSIF v_failed > 1 THEN
    -- Names cut before they are joined: a flood of long names costs this
    -- one row of at most max_error_chars() characters.
    PERFORM vault_bridge.log_row('resolve', NULL,
      pg_catalog.format('%s names refused: %s', v_failed,
        (SELECT pg_catalog.string_agg(g.problem || ': ' || g.names, '; ' ORDER BY g.problem)
         FROM (SELECT f.problem, pg_catalog.string_agg(vault_bridge.loggable_name(f.name), ', ' ORDER BY f.n) AS names
               FROM ROWS FROM (pg_catalog.unnest(p_failed_names), pg_catalog.unnest(p_problems)) WITH ORDINALITY AS f(name, problem, n)
               GROUP BY f.problem) AS g)),
      v_token.tenant, v_token.name, v_failed);
  END IF;
END
$$;
$setup_v8_11$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_12$
COMMENT ON FUNCTION vault_bridge.log_token_resolve(bigint, uuid[], text[], text[], text[]) IS
  'Internal. The audit rows of one token resolve: one per found name, and all failed names in one row (its name_count says how many), within the token''s audit budget (token_budget). Also records last_used_at.';

CREATE OR REPLACE FUNCTION vault_bridge.log_refused_token(p_token_id bigint, p_names integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_token vault_bridge.gateway_tokens%ROWTYPE;
BEGIN
  -- A window whose budget is spent takes nothing more, not even a count:
  -- whoever holds a dead token cannot make each call a write.
  IF EXISTS (SELECT FROM vault_bridge.gateway_tokens AS t
             WHERE t.id = p_token_id
               AND t.log_window_start > pg_catalog.now() - vault_bridge.token_log_window()
               AND t.log_window_rows >= vault_bridge.token_log_rows()) THEN
    RETURN;
  END IF;
  v_token := vault_bridge.token_budget(p_token_id, 1, p_names, false);
  IF v_token.id IS NULL THEN
    RETURN;
  END IF;
  PERFORM vault_bridge.log_row('resolve', NULL,
    CASE WHEN v_token.revoked_at IS NOT NULL
         THEN pg_catalog.format('gateway token revoked at %s', v_token.revoked_at)
         ELSE pg_catalog.format('gateway token expired at %s', v_token.expires_at) END,
    v_token.tenant, v_token.name, p_names);
END
$$;
COMMENT ON FUNCTION vault_bridge.log_refused_token(bigint, integer) IS
  'Internal. One failure row for a call made with a known token that is revoked or expired, standing for the p_names names it asked for, within the token''s audit budget; once the window''s budget is spent, nothing at all (no row, no count, no lock): a stolen old token that keeps trying is seen, and cannot flood the log or the table.';

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

CREATE OR REPLACE FUNCTION vault_bridge.lookup(p_names text[], p_tenant text, p_allow text[])
RETURNS TABLE (name text, vault_name text, secret_id uuid, secret text, problem text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- The allowed names found in one indexed lookup (vault.secrets has a unique index on name).
  WITH wanted AS (
    SELECT w.name, w.vault_name, w.problem FROM vault_bridge.wanted_names(p_names, p_tenant, p_allow) AS w
  ),
  found AS (
    SELECT d.id, d.name, d.decrypted_secret
    FROM vault.decrypted_secrets AS d
    WHERE d.name = ANY (ARRAY(SELECT w.vault_name FROM wanted AS w WHERE w.problem IS NULL))
  )
  SELECT w.name, w.vault_name, f.id, f.decrypted_secret,
         CASE WHEN w.problem IS NOT NULL THEN w.problem WHEN f.id IS NULL THEN 'not found' END
  FROM wanted AS w LEFT JOIN found AS f ON f.name = w.vault_name AND w.problem IS NULL
$$;
COMMENT ON FUNCTION vault_bridge.lookup(text[], text, text[]) IS
  'Internal. The batch lookup both resolve functions share: per distinct requested name (wanted_names) its Vault name, id and value when found, else why not. Never raises for a single name.';
$setup_v8_12$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_13$

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
    SELECT s.name, s.updated_at, COALESCE(m.expires_at <= pg_catalog.now(), false) AS expired
    FROM vault.secrets AS s
    LEFT JOIN LATERAL (SELECT x.expires_at FROM vault_bridge.secret_meta AS x WHERE x.secret_id = s.id) AS m ON true
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

-- One statement for every helper above and in section 3; it must stay after
-- the last one (a function created after it would keep PUBLIC's EXECUTE).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault_bridge FROM PUBLIC, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- 7. Id-based API (store_credential and friends)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.store_credential(p_name text, p_secret text, p_description text DEFAULT '')
RETURNS uuid
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.store(p_name, p_secret, p_description) $$;
REVOKE ALL ON FUNCTION public.store_credential(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.store_credential(text, text, text) TO service_role;
COMMENT ON FUNCTION public.store_credential(text, text, text) IS
  'service_role only. Stores a new named secret in Vault and returns its opaque id. NULL secret or bad name raises; an existing name raises 23505. Audited.';

CREATE OR REPLACE FUNCTION public.retrieve_credential(p_secret_id uuid)
RETURNS text
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.retrieve('retrieve', p_secret_id, NULL) $$;
REVOKE ALL ON FUNCTION public.retrieve_credential(uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.retrieve_credential(uuid) TO service_role;
COMMENT ON FUNCTION public.retrieve_credential(uuid) IS
  'service_role only. Returns the decrypted secret for a Vault id; raises PT404 (HTTP 404) when it does not exist. Audited.';

CREATE OR REPLACE FUNCTION public.rotate_credential(p_secret_id uuid, p_new_secret text)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.rotate('rotate', p_secret_id, NULL, p_new_secret) $$;
REVOKE ALL ON FUNCTION public.rotate_credential(uuid, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rotate_credential(uuid, text) TO service_role;
COMMENT ON FUNCTION public.rotate_credential(uuid, text) IS
  'service_role only. Replaces the value of a Vault secret; the id stays the same. Raises PT404 when it does not exist. Audited.';

CREATE OR REPLACE FUNCTION public.delete_credential(p_secret_id uuid)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.delete(p_secret_id, NULL) $$;
REVOKE ALL ON FUNCTION public.delete_credential(uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.delete_credential(uuid) TO service_role;
$setup_v8_13$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_14$
COMMENT ON FUNCTION public.delete_credential(uuid) IS
  'service_role only. Deletes a Vault secret by id; a missing id returns cleanly. Audited.';

-- ---------------------------------------------------------------------------
-- 8. Name-based API (what the bridge and its admin commands call)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.store_secret(p_name text, p_secret text, p_description text DEFAULT '')
RETURNS uuid
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.store(p_name, p_secret, p_description) $$;
REVOKE ALL ON FUNCTION public.store_secret(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.store_secret(text, text, text) TO service_role;
COMMENT ON FUNCTION public.store_secret(text, text, text) IS
  'service_role only. Stores a new secret under a name (the id OpenClaw refs use) and returns its Vault id. An existing name raises 23505 (HTTP 409). Audited.';

CREATE OR REPLACE FUNCTION public.get_secret(p_name text)
RETURNS text
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.retrieve('retrieve', vault_bridge.id_by_name('retrieve', p_name), p_name) $$;
REVOKE ALL ON FUNCTION public.get_secret(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.get_secret(text) TO service_role;
COMMENT ON FUNCTION public.get_secret(text) IS
  'service_role only. Returns the decrypted secret with this name; raises PT404 (HTTP 404) when none exists. Audited.';

CREATE OR REPLACE FUNCTION public.rotate_secret(p_name text, p_new_secret text)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.rotate('rotate', vault_bridge.id_by_name('rotate', p_name), p_name, p_new_secret) $$;
REVOKE ALL ON FUNCTION public.rotate_secret(text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rotate_secret(text, text) TO service_role;
COMMENT ON FUNCTION public.rotate_secret(text, text) IS
  'service_role only. Replaces the value of the secret with this name, keeping its id; raises PT404 when none exists. Audited.';

CREATE OR REPLACE FUNCTION public.delete_secret(p_name text)
RETURNS boolean
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT vault_bridge.delete(vault_bridge.id_by_name('delete', p_name), p_name) $$;
REVOKE ALL ON FUNCTION public.delete_secret(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.delete_secret(text) TO service_role;
COMMENT ON FUNCTION public.delete_secret(text) IS
  'service_role only. Deletes the secret with this name; returns false (no error) when none exists. Audited.';

CREATE OR REPLACE FUNCTION public.list_secrets(p_prefix text DEFAULT NULL)
RETURNS TABLE (id uuid, name text, description text, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  PERFORM vault_bridge.log_access('list', ARRAY[NULL::uuid], ARRAY[p_prefix], ARRAY[NULL::text]);
  -- Reads vault.secrets, not the decrypted view: listing never decrypts.
  RETURN QUERY
    SELECT s.id, s.name, s.description, s.created_at, s.updated_at
    FROM vault.secrets AS s
    WHERE s.name IS NOT NULL
      AND (p_prefix IS NULL OR pg_catalog.starts_with(s.name, p_prefix))
    ORDER BY s.name;
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets(text) TO service_role;
COMMENT ON FUNCTION public.list_secrets(text) IS
  'service_role only. Lists named secrets (id, name, description, timestamps), optionally by name prefix. Never returns or decrypts a value. Audited.';

-- ---------------------------------------------------------------------------
-- 9. Batch resolve (the bridge's hot path)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.resolve_secrets(p_names text[])
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_values jsonb;
  v_ids uuid[];
  v_names text[];
  v_errors text[];
BEGIN
  IF p_names IS NULL THEN
    PERFORM vault_bridge.fail('resolve', NULL, NULL, 'p_names is NULL', '22004',
      'pass an array of secret names');
  END IF;
  IF pg_catalog.cardinality(p_names) > vault_bridge.max_names_per_call() THEN
    PERFORM vault_bridge.fail('resolve', NULL, NULL,
      pg_catalog.format('%s names requested; at most %s per call',
                        pg_catalog.cardinality(p_names), vault_bridge.max_names_per_call()),
      '22023', 'split the request');
  END IF;

  -- One audit row per distinct requested name.
  SELECT COALESCE(pg_catalog.jsonb_object_agg(l.name, l.secret) FILTER (WHERE l.secret_id IS NOT NULL), '{}'::jsonb),
         pg_catalog.array_agg(l.secret_id), pg_catalog.array_agg(l.name), pg_catalog.array_agg(l.problem)
    INTO v_values, v_ids, v_names, v_errors
  FROM vault_bridge.lookup(p_names, NULL, NULL) AS l;
  PERFORM vault_bridge.log_access('resolve', v_ids, v_names, v_errors);
  RETURN v_values;
END
$$;
REVOKE ALL ON FUNCTION public.resolve_secrets(text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.resolve_secrets(text[]) TO service_role;
COMMENT ON FUNCTION public.resolve_secrets(text[]) IS
  'service_role only. Returns {name: value} for every requested name that exists, in one indexed lookup. Missing or invalid names are simply absent and audited as failures; only a NULL array or more names than vault_bridge.max_names_per_call() raises.';
$setup_v8_14$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_15$

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

-- ---------------------------------------------------------------------------
-- 10. Admin API (what `bridge secrets` and `bridge audit` call)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.set_secret(
  p_name text,
  p_secret text,
  p_description text DEFAULT NULL,
  p_meta jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_updated timestamptz;
BEGIN
  IF p_secret IS NULL AND p_description IS NULL AND p_meta IS NULL THEN
    -- Nothing to store and nothing to change: refused as a store without a value.
    PERFORM vault_bridge.check_store(p_name, p_secret);
  END IF;
  IF p_secret IS NULL THEN
    -- A change of description, type or schedule: the value stays, and so does rotated_at.
    v_id := vault_bridge.id_by_name('policy', p_name);
    PERFORM vault_bridge.check_meta('policy', p_name, p_meta);
    IF v_id IS NULL THEN
      PERFORM vault_bridge.fail('policy', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
        'store a value first: a type or a schedule belongs to a secret');
    END IF;
    SELECT s.updated_at INTO v_updated FROM vault.secrets AS s WHERE s.id = v_id;
    IF p_description IS NOT NULL THEN
      PERFORM vault.update_secret(v_id, NULL, NULL, p_description);
    END IF;
    PERFORM vault_bridge.log_access('policy', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
    RETURN vault_bridge.meta_answer(v_id, false, vault_bridge.apply_meta(v_id, p_meta, false, v_updated));
  END IF;
  PERFORM vault_bridge.check_store(p_name, p_secret);
  PERFORM vault_bridge.check_meta('store', p_name, p_meta);
  IF pg_catalog.strpos(p_name, vault_bridge.tenant_separator()) > 0 AND vault_bridge.tenant_of(p_name) IS NOT NULL THEN
    PERFORM vault_bridge.ensure_tenant(vault_bridge.tenant_of(p_name));
  END IF;
  -- postgres may not lock rows of vault.secrets (no UPDATE privilege), so a
  -- concurrent call is met by retrying: a create that loses to another
  -- transaction's create of the same name (unique violation, raised once that
  -- one commits) becomes a rotate, and a rotate whose row another
  -- transaction deleted meanwhile (the update finds nothing) becomes a create.
  FOR v_attempt IN 1..3 LOOP
    SELECT s.id INTO v_id FROM vault.secrets AS s WHERE s.name = p_name;
    IF FOUND THEN
      PERFORM vault.update_secret(v_id, p_secret, NULL, p_description);
      IF EXISTS (SELECT FROM vault.secrets AS s WHERE s.id = v_id) THEN
        PERFORM vault_bridge.log_access('rotate', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
        RETURN vault_bridge.meta_answer(v_id, false, vault_bridge.apply_meta(v_id, p_meta, true, NULL));
      END IF;
    ELSE
      BEGIN
        v_id := vault.create_secret(p_secret, p_name, COALESCE(p_description, ''));
        PERFORM vault_bridge.log_access('store', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
        RETURN vault_bridge.meta_answer(v_id, true, vault_bridge.apply_meta(v_id, p_meta, true, NULL));
      EXCEPTION WHEN unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
  -- Only under REPEATABLE READ or SERIALIZABLE, where the retries cannot see
  -- the other transaction's row, or under a storm of creates and deletes.
  PERFORM vault_bridge.fail('store', NULL, p_name,
    pg_catalog.format('secret %s is being changed by another transaction', p_name), '40001',
    'try again');
END
$$;
REVOKE ALL ON FUNCTION public.set_secret(text, text, text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.set_secret(text, text, text, jsonb) TO service_role;
COMMENT ON FUNCTION public.set_secret(text, text, text, jsonb) IS
  'service_role only. Stores the secret under this name, or replaces the value of the existing one keeping its Vault id (a rotation, which resets rotated_at; the description changes only when p_description is not NULL). p_meta {type?, rotate_every_s?, expires_at?} sets its type (a new type brings its default schedule unless rotate_every_s is given), rotation interval in seconds and expiry; null clears one. p_secret NULL changes description and metadata only, of an existing secret (PT404 otherwise), audited as policy. Returns {"id", "created", "type", "rotate_every", "expires_at", "rotated_at"}. A name T#NAME with a tenant name T records tenant T. Bad name or p_meta raises 22023. Audited as store, rotate or policy.';
$setup_v8_15$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_16$

CREATE OR REPLACE FUNCTION public.record_secret_check(p_name text, p_status text, p_message text)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid := vault_bridge.id_by_name('test', p_name);
  v_updated timestamptz;
BEGIN
  IF p_status IS NULL OR NOT p_status = ANY (vault_bridge.check_statuses()) THEN
    PERFORM vault_bridge.fail('test', v_id, p_name, 'p_status is not a test outcome', '22023',
      'one of ' || pg_catalog.array_to_string(vault_bridge.check_statuses(), ', '));
  END IF;
  SELECT s.updated_at INTO v_updated FROM vault.secrets AS s WHERE s.id = v_id;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('test', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.apply_meta(v_id, NULL, false, v_updated);
  UPDATE vault_bridge.secret_meta AS m
  SET checked_at = pg_catalog.now(), check_status = p_status,
      check_message = vault_bridge.escaped(pg_catalog.left(COALESCE(p_message, ''), vault_bridge.max_check_message_chars()))
  WHERE m.secret_id = v_id;
  PERFORM vault_bridge.log_access('test', ARRAY[v_id], ARRAY[p_name],
    ARRAY[CASE WHEN p_status = 'ok' THEN NULL ELSE 'provider test: ' || p_status END]);
  RETURN pg_catalog.now();
END
$$;
REVOKE ALL ON FUNCTION public.record_secret_check(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_secret_check(text, text, text) TO service_role;
COMMENT ON FUNCTION public.record_secret_check(text, text, text) IS
  'service_role only. Records the outcome of `bridge secrets test` (ok, invalid or unreachable) and its one-line message, already redacted by the bridge, cut to vault_bridge.max_check_message_chars() and escaped; returns checked_at. Raises PT404 for an unknown name. Audited as test.';

CREATE OR REPLACE FUNCTION public.list_secrets_status(
  p_prefix text DEFAULT NULL,
  p_due_within interval DEFAULT NULL,
  p_due_only boolean DEFAULT false
)
RETURNS TABLE (
  name text,
  description text,
  type text,
  status text,
  checked_at timestamptz,
  check_message text,
  last_used_at timestamptz,
  uses bigint,
  failures bigint,
  gateways bigint,
  rotated_at timestamptz,
  rotate_every bigint,
  expires_at timestamptz,
  due text,
  due_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_within interval := COALESCE(p_due_within, vault_bridge.due_window());
BEGIN
  PERFORM vault_bridge.log_access('list', ARRAY[NULL::uuid], ARRAY[p_prefix], ARRAY[NULL::text]);
  -- A use is a resolve, what a gateway does; a failure is a failed resolve
  -- or read by name (a person's own reads, `secrets get` and `secrets
  -- test`, are no use of the secret by anyone else). The
  -- covering (secret_name, accessed_at) index answers the window's counts
  -- per secret without visiting the table; the last use before the window
  -- is looked up only for a secret the window saw no use of.
  RETURN QUERY
    SELECT p.name, p.description, p.type, p.check_status, p.checked_at, p.check_message,
           COALESCE(recent.last_used_at, (
             SELECT l.accessed_at
             FROM public.vault_access_log AS l
             WHERE l.secret_name = p.name AND l.success AND l.access_type = 'resolve'
             ORDER BY l.accessed_at DESC
             LIMIT 1)),
           recent.uses, COALESCE(recent.failures, 0), recent.gateways,
           p.rotated_at, EXTRACT(epoch FROM p.rotate_every)::bigint, p.expires_at, p.due, p.due_at,
           p.created_at, p.updated_at
    FROM vault_bridge.secret_policies(p_prefix, NULL, v_within) AS p
    CROSS JOIN LATERAL (
      SELECT pg_catalog.max(l.accessed_at) FILTER (WHERE l.success AND l.access_type = 'resolve') AS last_used_at,
             pg_catalog.count(*) FILTER (WHERE l.success AND l.access_type = 'resolve') AS uses,
             pg_catalog.sum(l.name_count) FILTER (WHERE NOT l.success)::bigint AS failures,
             pg_catalog.count(DISTINCT CASE WHEN l.token_name IS NOT NULL THEN 'token ' || l.tenant || '/' || l.token_name
                                            ELSE 'host ' || l.host END) FILTER (WHERE l.success AND l.access_type = 'resolve') AS gateways
      FROM public.vault_access_log AS l
      WHERE l.secret_name = p.name
        AND l.accessed_at >= pg_catalog.now() - vault_bridge.usage_window()
        AND l.access_type = ANY (ARRAY['resolve', 'retrieve'])
    ) AS recent
    WHERE NOT p_due_only OR p.due <> 'ok'
    ORDER BY p.name;
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets_status(text, interval, boolean) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets_status(text, interval, boolean) TO service_role;
COMMENT ON FUNCTION public.list_secrets_status(text, interval, boolean) IS
  'service_role only. One row per named secret (optionally by literal name prefix): type, last provider test, last use, uses, failures and gateways (distinct tokens, else hosts, that resolved it) over vault_bridge.usage_window(), rotation and expiry, and due: expired, overdue, due (within p_due_within, default vault_bridge.due_window()) or ok. p_due_only keeps those not ok. Uses are successful resolves; failures are failed resolves and reads by name. Never returns or decrypts a value. Audited as list.';
$setup_v8_16$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_17$

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
          AND l.accessed_at >= pg_catalog.now() - vault_bridge.usage_window()
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
$setup_v8_17$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_18$

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
  -- Failures come from the partial index on failed rows; first reads from a
  -- host from the accessed_at index, each checked against the secret's
  -- earlier rows through the covering per-name index. A token call that
  -- fails several names writes one row naming none of them: it counts
  -- toward its token's alert, and toward a name's only when itemised. The
  -- summary row of a token's over-budget calls is no failure.
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
    first_reads AS (
      SELECT l.secret_name, l.host, pg_catalog.min(l.accessed_at) AS first_at, pg_catalog.max(l.accessed_at) AS last_at,
             pg_catalog.count(*) AS n
      FROM public.vault_access_log AS l
      WHERE l.success AND l.accessed_at >= v_since AND l.host IS NOT NULL AND l.secret_name IS NOT NULL
        AND l.access_type = 'resolve'
      GROUP BY l.secret_name, l.host
    ),
    alerts AS (
      SELECT 'failures'::text AS kind, p.secret_name AS secret, NULL::text AS token, NULL::text AS host,
             pg_catalog.sum(p.name_count)::bigint AS count, pg_catalog.min(p.accessed_at) AS first_at,
             pg_catalog.max(p.accessed_at) AS last_at,
             pg_catalog.format('%s failed accesses to %s, up to %s within %s (more than %s is an alert)',
               pg_catalog.sum(p.name_count), p.secret_name, pg_catalog.max(p.in_window), vault_bridge.alert_failure_window(),
               vault_bridge.alert_failures()) AS message
      FROM per_name AS p
      GROUP BY p.secret_name
      HAVING pg_catalog.max(p.in_window) > vault_bridge.alert_failures()
      UNION ALL
      SELECT 'failures', NULL, p.token, NULL, pg_catalog.sum(p.name_count)::bigint, pg_catalog.min(p.accessed_at),
             pg_catalog.max(p.accessed_at),
             pg_catalog.format('%s failed accesses with gateway token %s, up to %s within %s (more than %s is an alert)',
               pg_catalog.sum(p.name_count), p.token, pg_catalog.max(p.in_window), vault_bridge.alert_failure_window(),
               vault_bridge.alert_failures())
      FROM per_token AS p
      GROUP BY p.token
      HAVING pg_catalog.max(p.in_window) > vault_bridge.alert_failures()
      UNION ALL
      SELECT 'new_host', r.secret_name, NULL, r.host, r.n, r.first_at, r.last_at,
             pg_catalog.format('%s was resolved from host %s for the first time; other hosts resolved it before', r.secret_name, r.host)
      FROM first_reads AS r
      -- Each probe walks the secret's rows backwards from the window and stops
      -- at the first match: a host that read before is found within the
      -- last few rows, so only a truly new one costs a longer walk.
      WHERE (SELECT true FROM public.vault_access_log AS o
             WHERE o.secret_name = r.secret_name AND o.accessed_at < v_since AND o.host = r.host AND o.success
               AND o.access_type = 'resolve'
             ORDER BY o.accessed_at DESC LIMIT 1) IS NULL
        AND (SELECT true FROM public.vault_access_log AS o
             WHERE o.secret_name = r.secret_name AND o.accessed_at < r.first_at AND o.host <> r.host AND o.success
               AND o.access_type = 'resolve'
             ORDER BY o.accessed_at DESC LIMIT 1) IS NOT NULL
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
    ORDER BY a.last_at DESC NULLS LAST, a.kind, a.secret, a.token
    LIMIT vault_bridge.max_log_rows();
END
$$;
REVOKE ALL ON FUNCTION public.read_access_alerts(timestamptz) FROM PUBLIC, anon, authenticated;
$setup_v8_18$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_19$
GRANT EXECUTE ON FUNCTION public.read_access_alerts(timestamptz) TO service_role;
COMMENT ON FUNCTION public.read_access_alerts(timestamptz) IS
  'service_role only. Alerts since p_since (default 24 hours ago), newest first, at most vault_bridge.max_log_rows(): failures (more than vault_bridge.alert_failures() failed accesses to one name, or with one gateway token, revoked and expired ones included, within vault_bridge.alert_failure_window()), new_host (a successful resolve from a host that never resolved that secret before, when other hosts had) and unused_token (an active token unused for vault_bridge.unused_token_after(); count is its idle days). Audited as audit.';

CREATE OR REPLACE FUNCTION public.secret_rollout(p_name text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_changed timestamptz;
  v_answer jsonb;
BEGIN
  SELECT s.updated_at INTO v_changed FROM vault.secrets AS s WHERE s.id = vault_bridge.id_by_name('audit', p_name);
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('audit', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[p_name], ARRAY[NULL::text]);
  -- The secret's successful resolves from usage_window() before its change
  -- on, per gateway (a token, else the host of a project-key caller),
  -- through the covering per-name index.
  WITH seen AS (
    SELECT CASE WHEN l.token_name IS NOT NULL THEN 'token' ELSE 'host' END AS via,
           CASE WHEN l.token_name IS NOT NULL THEN l.tenant || '/' || l.token_name ELSE l.host END AS gateway,
           pg_catalog.max(l.accessed_at) FILTER (WHERE l.accessed_at >= v_changed) AS since_change,
           pg_catalog.max(l.accessed_at) FILTER (WHERE l.accessed_at < v_changed) AS before_change
    FROM public.vault_access_log AS l
    WHERE l.secret_name = p_name AND l.success AND l.access_type = 'resolve'
      AND l.accessed_at >= v_changed - vault_bridge.usage_window()
      AND (l.token_name IS NOT NULL OR l.host IS NOT NULL)
    GROUP BY 1, 2
  )
  SELECT pg_catalog.jsonb_build_object(
    'name', p_name, 'changed_at', v_changed,
    'updated', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('gateway', g.gateway, 'via', g.via, 'resolved_at', g.since_change)
                 ORDER BY g.gateway) FILTER (WHERE g.since_change IS NOT NULL), '[]'::jsonb),
    'pending', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('gateway', g.gateway, 'via', g.via, 'resolved_at', g.before_change)
                 ORDER BY g.gateway) FILTER (WHERE g.since_change IS NULL), '[]'::jsonb))
  INTO v_answer
  FROM seen AS g;
  RETURN v_answer;
END
$$;
REVOKE ALL ON FUNCTION public.secret_rollout(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.secret_rollout(text) TO service_role;
COMMENT ON FUNCTION public.secret_rollout(text) IS
  'service_role only. Since the secret last changed (Vault updated_at): {"name", "changed_at", "updated": [{"gateway", "via", "resolved_at"}], "pending": [...]}: the gateways (tenant/token, or the host of a project-key caller) that have resolved it since, and those seen resolving it in vault_bridge.usage_window() before that have not. Raises PT404 for an unknown name. Audited as audit.';
$setup_v8_19$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_20$

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
$setup_v8_20$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_21$

-- ---------------------------------------------------------------------------
-- 11. Gateway tokens (least privilege for gateways)
-- ---------------------------------------------------------------------------
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
  IF vault_bridge.token_budget(v_token.id, 1, 1, false) IS NOT NULL THEN
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
$setup_v8_21$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_22$
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
$setup_v8_22$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_23$
REVOKE ALL ON FUNCTION public.revoke_gateway_token(text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.revoke_gateway_token(text, text) TO service_role;
COMMENT ON FUNCTION public.revoke_gateway_token(text, text) IS
  'service_role only. Revokes a tenant''s active token by name (the row stays, for the audit trail); false when there is none. Takes effect on the token''s next resolve; what its audit budget kept out of the log is written as one summary row. Audited as token.';

-- ---------------------------------------------------------------------------
-- 12. Tenants and members (Supabase Auth users who may see their tenant's metadata)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.add_tenant_member(p_tenant text, p_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_added boolean;
BEGIN
  PERFORM vault_bridge.ensure_tenant(p_tenant);
  IF p_user_id IS NULL THEN
    PERFORM vault_bridge.fail('member', NULL, NULL, 'p_user_id is NULL', '22004', 'pass a Supabase Auth user id');
  END IF;
  INSERT INTO vault_bridge.tenant_members (tenant, user_id) VALUES (p_tenant, p_user_id) ON CONFLICT DO NOTHING;
  v_added := FOUND;
  PERFORM vault_bridge.log_access('member', ARRAY[NULL::uuid], ARRAY[p_user_id::text], ARRAY[NULL::text], p_tenant, NULL);
  RETURN v_added;
END
$$;
REVOKE ALL ON FUNCTION public.add_tenant_member(text, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.add_tenant_member(text, uuid) TO service_role;
COMMENT ON FUNCTION public.add_tenant_member(text, uuid) IS
  'service_role only. Lets a Supabase Auth user read the tenant''s rows of public.vault_secrets_overview; false when already a member. Audited as member.';

CREATE OR REPLACE FUNCTION public.remove_tenant_member(p_tenant text, p_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_removed boolean;
BEGIN
  DELETE FROM vault_bridge.tenant_members AS m WHERE m.tenant = p_tenant AND m.user_id = p_user_id;
  v_removed := FOUND;
  PERFORM vault_bridge.log_access('member', ARRAY[NULL::uuid], ARRAY[p_user_id::text],
    ARRAY[CASE WHEN v_removed THEN NULL ELSE 'not a member' END], p_tenant, NULL);
  RETURN v_removed;
END
$$;
REVOKE ALL ON FUNCTION public.remove_tenant_member(text, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.remove_tenant_member(text, uuid) TO service_role;
COMMENT ON FUNCTION public.remove_tenant_member(text, uuid) IS
  'service_role only. Removes a member from a tenant; false when not a member. Audited as member.';

CREATE OR REPLACE FUNCTION public.list_tenants()
RETURNS TABLE (tenant text, members uuid[], secrets bigint, tokens bigint, created_at timestamptz)
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
  -- A tenant may exist only as Vault names T#NAME (stored before set_secret
  -- recorded tenants, or with store_secret), so those count as tenants too.
  WITH stored AS (
    SELECT vault_bridge.tenant_of(s.name) AS tenant, pg_catalog.count(*) AS n
    FROM vault.secrets AS s
    WHERE s.name IS NOT NULL
    GROUP BY 1
  ),
  known AS (
    SELECT t.tenant FROM vault_bridge.tenants AS t
    UNION SELECT k.tenant FROM vault_bridge.gateway_tokens AS k
    UNION SELECT s.tenant FROM stored AS s WHERE s.tenant IS NOT NULL
  )
  SELECT n.tenant,
         ARRAY(SELECT m.user_id FROM vault_bridge.tenant_members AS m WHERE m.tenant = n.tenant ORDER BY m.user_id),
         COALESCE((SELECT s.n FROM stored AS s WHERE s.tenant = n.tenant), 0),
         (SELECT pg_catalog.count(*) FROM vault_bridge.gateway_tokens AS k
           WHERE k.tenant = n.tenant AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now())),
         t.created_at
  FROM known AS n LEFT JOIN vault_bridge.tenants AS t ON t.tenant = n.tenant
  ORDER BY n.tenant
$$;
REVOKE ALL ON FUNCTION public.list_tenants() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_tenants() TO service_role;
COMMENT ON FUNCTION public.list_tenants() IS
  'service_role only. Every tenant that is recorded, holds a token or holds a Vault secret named T#NAME, with its members, its number of secrets and of active tokens (created_at NULL when it exists only as Vault names).';

-- A view owned by postgres reads Vault's metadata (never a value) and keeps
-- only the rows of the caller's own tenants: an authenticated user sees the
-- tenants they are a member of, every other caller sees nothing. Only
-- pg_catalog functions appear in it, so callers need no access to vault_bridge.
CREATE OR REPLACE VIEW public.vault_secrets_overview WITH (security_barrier = true) AS
  SELECT o.tenant, o.name, s.description, s.updated_at,
         (SELECT pg_catalog.max(l.accessed_at) FROM public.vault_access_log AS l
           WHERE l.secret_name = s.name AND l.success AND l.access_type = 'resolve') AS last_accessed_at
  FROM vault.secrets AS s
  CROSS JOIN LATERAL (
    SELECT CASE WHEN pg_catalog.strpos(s.name, '#') = 0 THEN 'default' ELSE pg_catalog.split_part(s.name, '#', 1) END AS tenant,
           CASE WHEN pg_catalog.strpos(s.name, '#') = 0 THEN s.name
                ELSE pg_catalog.substr(s.name, pg_catalog.strpos(s.name, '#') + 1) END AS name
  ) AS o
  WHERE s.name IS NOT NULL
    AND EXISTS (
      SELECT FROM vault_bridge.tenant_members AS m
      WHERE m.tenant = o.tenant
        AND NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' = 'authenticated'
        AND m.user_id::text = NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub');
REVOKE ALL ON TABLE public.vault_secrets_overview FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vault_secrets_overview TO authenticated;
$setup_v8_23$;
END
$migration$;

DO $migration$
DECLARE
  v_installed integer := 0;
BEGIN
  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN
    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;
  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN
    v_installed := 1;  -- the first release kept no version record
  END IF;
  IF v_installed > 8 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v8_24$
COMMENT ON VIEW public.vault_secrets_overview IS
  'authenticated only. Tenant, name, description, updated_at and last resolve of the secrets of the tenants the caller (Supabase Auth sub) is a member of; never a value. Everyone else reads no rows. The tenant separator ''#'' is vault_bridge.tenant_separator().';

-- ---------------------------------------------------------------------------
-- 13. Schema version
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.vault_bridge_version()
RETURNS integer
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT pg_catalog.max(m.version) FROM vault_bridge.schema_migrations AS m $$;
REVOKE ALL ON FUNCTION public.vault_bridge_version() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.vault_bridge_version() TO service_role;
COMMENT ON FUNCTION public.vault_bridge_version() IS
  'service_role only. The highest setup.sql schema version applied (vault_bridge.schema_migrations), so the bridge and its doctor can tell whether this file needs re-running.';
$setup_v8_24$;
END
$migration$;
