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
