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

-- One statement for every vault_bridge function of every section above; it must stay after
-- the last one (a function created after it would keep PUBLIC's EXECUTE).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault_bridge FROM PUBLIC, anon, authenticated, service_role;
