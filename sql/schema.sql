CREATE SCHEMA IF NOT EXISTS vault_bridge;
COMMENT ON SCHEMA vault_bridge IS
  'openclaw-supabase-bridge internals: helpers called by the public entry points. No API role has access.';
REVOKE ALL ON SCHEMA vault_bridge FROM PUBLIC, anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS vault_bridge.schema_migrations (
  version     integer PRIMARY KEY,
  applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  description text NOT NULL
);

-- Refuse to run over a newer schema: this file would replace its functions
-- with older ones. The number is SCHEMA_VERSION, written in by sql/build.py.
DO $guard$
DECLARE
  v_this_file CONSTANT integer := @SCHEMA_VERSION@;
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
