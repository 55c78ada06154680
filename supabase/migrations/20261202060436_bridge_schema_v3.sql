-- openclaw-supabase-bridge schema version 3, for `supabase db push` (written by sql/build.py).
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_1$
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
  v_this_file CONSTANT integer := 3;
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
$setup_v3_1$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_2$
COMMENT ON FUNCTION vault_bridge.max_header_chars() IS
  'Internal. Characters kept of each request header copied into the audit log. Read by request_client.';

CREATE OR REPLACE FUNCTION vault_bridge.max_log_rows()
RETURNS integer
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT 10000 $$;
COMMENT ON FUNCTION vault_bridge.max_log_rows() IS
  'Internal. Most audit rows one read_access_log call returns (a larger p_limit is lowered to it). Read by read_access_log.';

CREATE OR REPLACE FUNCTION vault_bridge.access_types()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT ARRAY['store', 'retrieve', 'rotate', 'delete', 'list', 'resolve', 'audit'] $$;
COMMENT ON FUNCTION vault_bridge.access_types() IS
  'Internal. Every vault_access_log.access_type value. The table''s CHECK is built from this list by the setup.sql version step that last changed it; a new value needs a new step.';

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

-- ---------------------------------------------------------------------------
-- 6. Private helpers
-- ---------------------------------------------------------------------------

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
  END
$$;
$setup_v3_2$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_3$
COMMENT ON FUNCTION vault_bridge.name_problem(text) IS
  'Internal. Why a secret name is unusable, or NULL when it is fine. Called only by the public entry points.';

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
    'user_agent', pg_catalog.left(v_headers ->> 'user-agent', v_max),
    'host', pg_catalog.left(v_headers ->> 'x-bridge-host', v_max),
    'provider', pg_catalog.left(v_headers ->> 'x-bridge-provider', v_max)));
  RETURN NULLIF(v_client, '{}'::jsonb);
EXCEPTION WHEN invalid_text_representation THEN
  RETURN pg_catalog.jsonb_build_object('error', 'request.headers is not JSON');
END
$$;
COMMENT ON FUNCTION vault_bridge.request_client() IS
  'Internal. Non-credential request headers (user agent, bridge host and provider), NULL outside PostgREST.';

CREATE OR REPLACE FUNCTION vault_bridge.log_access(
  p_access_type text,
  p_secret_ids uuid[],
  p_names text[],
  p_errors text[]
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
    (secret_id, secret_name, accessed_by, client, access_type, success, error_message)
  SELECT e.secret_id, e.secret_name, v_caller, v_client, p_access_type,
         e.error_message IS NULL, e.error_message
  FROM ROWS FROM (pg_catalog.unnest(p_secret_ids), pg_catalog.unnest(p_names), pg_catalog.unnest(p_errors))
       AS e(secret_id, secret_name, error_message);
END
$$;
COMMENT ON FUNCTION vault_bridge.log_access(text, uuid[], text[], text[]) IS
  'Internal. Appends one audit row per element (success when its error is NULL). Takes no secret values by design.';

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
BEGIN
  -- The raise below rolls back any audit row of this transaction, so the
  -- failure is recorded in the Postgres log, which survives the rollback.
  RAISE LOG 'vault_bridge audit: access_type=% secret_id=% secret_name=% success=false error=% caller=% client=%',
    p_access_type, p_secret_id, p_name, p_message,
    vault_bridge.request_caller(), vault_bridge.request_client();
  RAISE EXCEPTION USING MESSAGE = p_message, ERRCODE = p_errcode, HINT = COALESCE(p_hint, '');
END
$$;
COMMENT ON FUNCTION vault_bridge.fail(text, uuid, text, text, text, text) IS
  'Internal. Records a failed access in the Postgres log and raises it. Messages name the problem, never a value.';

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
  v_problem text := vault_bridge.name_problem(p_name);
  v_id uuid;
BEGIN
  IF v_problem IS NOT NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, v_problem, '22023',
      pg_catalog.format('pass a name of 1 to %s characters', vault_bridge.max_name_chars()));
  END IF;
  IF p_secret IS NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, 'secret value is NULL', '22004',
      'pass the secret as p_secret');
  END IF;
  BEGIN
    v_id := vault.create_secret(p_secret, p_name, COALESCE(p_description, ''));
  EXCEPTION WHEN unique_violation THEN
    PERFORM vault_bridge.fail('store', NULL, p_name,
      pg_catalog.format('a secret named %s already exists', p_name), '23505',
      'rotate it (rotate_secret) or delete it first');
  END;
  PERFORM vault_bridge.log_access('store', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.store(text, text, text) IS
  'Internal. Creates a named Vault secret and audits it; shared by store_credential and store_secret.';

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
      pg_catalog.format('pass a name of 1 to %s characters', vault_bridge.max_name_chars()));
  END IF;
  SELECT s.id INTO v_id FROM vault.secrets AS s WHERE s.name = p_name;
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.id_by_name(text, text) IS
  'Internal. Validates a name and returns its Vault id, or NULL when no secret has that name.';
$setup_v3_3$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_4$

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
  PERFORM vault_bridge.log_access(p_access_type, ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
END
$$;
COMMENT ON FUNCTION vault_bridge.rotate(text, uuid, text, text) IS
  'Internal. Replaces a secret value in place (same id) and audits it; raises PT404 when it does not exist.';

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
  PERFORM vault_bridge.log_access('delete', ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
  RETURN true;
END
$$;
COMMENT ON FUNCTION vault_bridge.delete(uuid, text) IS
  'Internal. Deletes a secret if it exists (a missing one is an audited no-op) and reports whether it did.';

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
$setup_v3_4$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_5$
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

  -- One indexed lookup for the whole batch (vault.secrets has a unique index
  -- on name), one audit row per distinct requested name.
  WITH wanted AS (
    SELECT DISTINCT w.name, vault_bridge.name_problem(w.name) AS problem
    FROM pg_catalog.unnest(p_names) AS w(name)
  ),
  found AS (
    SELECT d.id, d.name, d.decrypted_secret
    FROM vault.decrypted_secrets AS d
    WHERE d.name = ANY (ARRAY(SELECT w.name FROM wanted AS w WHERE w.problem IS NULL))
  )
  SELECT COALESCE(pg_catalog.jsonb_object_agg(f.name, f.decrypted_secret)
                    FILTER (WHERE f.id IS NOT NULL), '{}'::jsonb),
         pg_catalog.array_agg(f.id),
         pg_catalog.array_agg(w.name),
         pg_catalog.array_agg(CASE WHEN w.problem IS NOT NULL THEN w.problem
                                   WHEN f.id IS NULL THEN 'not found' END)
    INTO v_values, v_ids, v_names, v_errors
  FROM wanted AS w LEFT JOIN found AS f ON f.name = w.name;
  PERFORM vault_bridge.log_access('resolve', v_ids, v_names, v_errors);
  RETURN v_values;
END
$$;
REVOKE ALL ON FUNCTION public.resolve_secrets(text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.resolve_secrets(text[]) TO service_role;
$setup_v3_5$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_6$
COMMENT ON FUNCTION public.resolve_secrets(text[]) IS
  'service_role only. Returns {name: value} for every requested name that exists, in one indexed lookup. Missing or invalid names are simply absent and audited as failures; only a NULL array or more names than vault_bridge.max_names_per_call() raises.';

-- ---------------------------------------------------------------------------
-- 10. Admin API (what `bridge secrets` and `bridge audit` call)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.set_secret(p_name text, p_secret text, p_description text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_problem text := vault_bridge.name_problem(p_name);
  v_id uuid;
BEGIN
  IF v_problem IS NOT NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, v_problem, '22023',
      pg_catalog.format('pass a name of 1 to %s characters', vault_bridge.max_name_chars()));
  END IF;
  IF p_secret IS NULL THEN
    PERFORM vault_bridge.fail('store', NULL, p_name, 'secret value is NULL', '22004',
      'pass the secret as p_secret');
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
        RETURN pg_catalog.jsonb_build_object('id', v_id, 'created', false);
      END IF;
    ELSE
      BEGIN
        v_id := vault.create_secret(p_secret, p_name, COALESCE(p_description, ''));
        PERFORM vault_bridge.log_access('store', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
        RETURN pg_catalog.jsonb_build_object('id', v_id, 'created', true);
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
REVOKE ALL ON FUNCTION public.set_secret(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.set_secret(text, text, text) TO service_role;
COMMENT ON FUNCTION public.set_secret(text, text, text) IS
  'service_role only. Stores the secret under this name, or replaces the value of the existing one keeping its Vault id (a rotation; the description changes only when p_description is not NULL). Returns {"id", "created"}. NULL secret or bad name raises. Audited as store or rotate.';

CREATE OR REPLACE FUNCTION public.list_secrets_usage(p_prefix text DEFAULT NULL)
RETURNS TABLE (
  name text,
  description text,
  created_at timestamptz,
  updated_at timestamptz,
  last_accessed_at timestamptz,
  accesses_30d bigint,
  hosts text[]
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  PERFORM vault_bridge.log_access('list', ARRAY[NULL::uuid], ARRAY[p_prefix], ARRAY[NULL::text]);
  -- Reads vault.secrets, not the decrypted view: listing never decrypts.
  -- Usage is matched by name (what the audit log records for every access)
  -- through the (secret_name, accessed_at) index, one lookup per secret;
  -- listing and reading the log are not uses of a secret.
  RETURN QUERY
    SELECT s.name, s.description, s.created_at, s.updated_at,
           latest.accessed_at, recent.n, recent.host_list
    FROM vault.secrets AS s
    LEFT JOIN LATERAL (
      SELECT l.accessed_at
      FROM public.vault_access_log AS l
      WHERE l.secret_name = s.name
        AND l.success
        AND l.access_type <> ALL (ARRAY['list', 'audit'])
      ORDER BY l.accessed_at DESC
      LIMIT 1
    ) AS latest ON true
    CROSS JOIN LATERAL (
      SELECT pg_catalog.count(*) AS n,
             COALESCE(pg_catalog.array_agg(DISTINCT l.client ->> 'host' ORDER BY l.client ->> 'host')
                        FILTER (WHERE l.client ->> 'host' IS NOT NULL),
                      '{}'::text[]) AS host_list
      FROM public.vault_access_log AS l
      WHERE l.secret_name = s.name
        AND l.accessed_at >= pg_catalog.now() - interval '30 days'
        AND l.success
        AND l.access_type <> ALL (ARRAY['list', 'audit'])
    ) AS recent
    WHERE s.name IS NOT NULL
      AND (p_prefix IS NULL OR pg_catalog.starts_with(s.name, p_prefix))
    ORDER BY s.name;
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets_usage(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets_usage(text) TO service_role;
COMMENT ON FUNCTION public.list_secrets_usage(text) IS
  'service_role only. Named secrets (optionally by literal name prefix) with their last successful access, the number of successful accesses in the last 30 days and the hosts they came from (listing and audit reads excluded). Never returns or decrypts a value. Audited as list.';
$setup_v3_6$;
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
  IF v_installed > 3 THEN
    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN
      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;
    END IF;
    RETURN;
  END IF;
  EXECUTE $setup_v3_7$

CREATE OR REPLACE FUNCTION public.read_access_log(
  p_since timestamptz DEFAULT NULL,
  p_name text DEFAULT NULL,
  p_failures_only boolean DEFAULT false,
  p_limit integer DEFAULT 1000
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
  user_agent text
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_query text := 'SELECT l.id, l.accessed_at, l.secret_name, l.access_type, l.success, l.error_message, '
    'l."session_user", l.accessed_by ->> ''role'', l.client ->> ''host'', l.client ->> ''provider'', '
    'l.client ->> ''user_agent'' FROM public.vault_access_log AS l WHERE true';
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
  v_query := v_query || ' ORDER BY l.accessed_at DESC, l.id DESC LIMIT $3';
  -- The rows are read before this read is recorded, so a call never returns
  -- its own audit row; the next one does.
  RETURN QUERY EXECUTE v_query
    USING p_since, p_name, LEAST(p_limit, vault_bridge.max_log_rows());
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[NULL::text], ARRAY[NULL::text]);
END
$$;
REVOKE ALL ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer) TO service_role;
COMMENT ON FUNCTION public.read_access_log(timestamptz, text, boolean, integer) IS
  'service_role only. The audit log newest first, optionally since a time, for one exact name and failures only, at most p_limit rows (1 or more, lowered to vault_bridge.max_log_rows()). The log never holds a value. Audited as audit.';

-- ---------------------------------------------------------------------------
-- 11. Schema version
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
$setup_v3_7$;
END
$migration$;
