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
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT r.value FROM vault_bridge.retrieve_version(p_access_type, p_secret_id, p_name) AS r $$;
COMMENT ON FUNCTION vault_bridge.retrieve(text, uuid, text) IS
  'Internal. Decrypts one secret by id and audits it (retrieve_version without the version); raises PT404 (HTTP 404) when it does not exist.';

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
  -- The secret's lock before Vault's row lock, in the order every writer takes them.
  PERFORM vault_bridge.lock_secret(p_secret_id);
  PERFORM vault.update_secret(p_secret_id, p_new_secret);
  PERFORM vault_bridge.apply_meta(p_secret_id, NULL, true, NULL);
  PERFORM vault_bridge.log_access(p_access_type, ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
END
$$;
COMMENT ON FUNCTION vault_bridge.rotate(text, uuid, text, text) IS
  'Internal. Replaces a secret value in place (same id), resets its rotated_at and audits it; raises PT404 when it does not exist.';

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
  IF p_secret_id IS NOT NULL THEN
    -- A rotation in flight finishes first (or waits for this delete and finds nothing): no copy outlives the secret.
    PERFORM vault_bridge.lock_secret(p_secret_id);
  END IF;
  DELETE FROM vault.secrets AS s WHERE s.id = p_secret_id RETURNING s.name INTO v_name;
  IF NOT FOUND THEN
    PERFORM vault_bridge.log_access('delete', ARRAY[p_secret_id], ARRAY[p_name],
      ARRAY[pg_catalog.format('secret %s not found', COALESCE(p_name, p_secret_id::text))]);
    RETURN false;
  END IF;
  DELETE FROM vault_bridge.secret_meta AS m WHERE m.secret_id = p_secret_id;
  -- Its kept previous values go with it: a deleted secret leaves no value behind in Vault.
  DELETE FROM vault.secrets AS s
  WHERE s.id IN (SELECT x.value_id FROM vault_bridge.secret_versions AS x WHERE x.secret_id = p_secret_id AND x.value_id IS NOT NULL);
  DELETE FROM vault_bridge.secret_versions AS x WHERE x.secret_id = p_secret_id;
  PERFORM vault_bridge.log_access('delete', ARRAY[p_secret_id], ARRAY[v_name], ARRAY[NULL::text]);
  RETURN true;
END
$$;
COMMENT ON FUNCTION vault_bridge.delete(uuid, text) IS
  'Internal. Deletes a secret, its metadata and its kept versions if it exists (a missing one is an audited no-op) and reports whether it did.';

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
COMMENT ON FUNCTION public.delete_credential(uuid) IS
  'service_role only. Deletes a Vault secret by id; a missing id returns cleanly. Audited.';

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
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- Every admin call purges kept values past their time (bounded); plpgsql, as purge_versions is defined later.
  PERFORM vault_bridge.purge_versions();
  RETURN vault_bridge.retrieve('retrieve', vault_bridge.id_by_name('retrieve', p_name), p_name);
END
$$;
REVOKE ALL ON FUNCTION public.get_secret(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.get_secret(text) TO service_role;
COMMENT ON FUNCTION public.get_secret(text) IS
  'service_role only. Returns the decrypted secret with this name; raises PT404 (HTTP 404) when none exists. Audited.';

CREATE OR REPLACE FUNCTION public.get_secret_version(p_name text)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT pg_catalog.jsonb_build_object('secret', r.value, 'version', r.updated_at)
  FROM vault_bridge.retrieve_version('retrieve', vault_bridge.id_by_name('retrieve', p_name), p_name) AS r
$$;
REVOKE ALL ON FUNCTION public.get_secret_version(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.get_secret_version(text) TO service_role;
COMMENT ON FUNCTION public.get_secret_version(text) IS
  'service_role only. {"secret", "version"}: the decrypted secret with this name and its version (Vault''s updated_at, of the same row version), which `bridge secrets test` hands back to record_secret_check. Raises PT404 (HTTP 404) when none exists. Audited as retrieve, like get_secret.';

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
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- Every admin call purges kept values past their time (bounded); plpgsql, as purge_versions is defined later.
  PERFORM vault_bridge.purge_versions();
  RETURN vault_bridge.delete(vault_bridge.id_by_name('delete', p_name), p_name);
END
$$;
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
