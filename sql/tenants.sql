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
COMMENT ON VIEW public.vault_secrets_overview IS
  'authenticated only. Tenant, name, description, updated_at and last resolve of the secrets of the tenants the caller (Supabase Auth sub) is a member of; never a value. Everyone else reads no rows. The tenant separator ''#'' is vault_bridge.tenant_separator().';
