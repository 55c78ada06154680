-- Test stack only: the roles, grants and default privileges of a Supabase
-- project, applied by the bootstrap superuser `supabase_admin` to a fresh
-- cluster. Modelled on what Supabase provisions, so that setup.sql meets the
-- same privileges here as in a real project (in particular the default
-- privileges that hand every new function in `public` to anon and
-- authenticated: a missing REVOKE in setup.sql fails a test).

CREATE ROLE postgres LOGIN NOSUPERUSER CREATEROLE CREATEDB NOBYPASSRLS;
CREATE ROLE anon NOLOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN NOINHERIT;
CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated, service_role TO authenticator;
GRANT anon, authenticated, service_role TO postgres;

-- The project database belongs to postgres, so postgres owns `public`
-- (through pg_database_owner) and may create schemas, as in Supabase.
ALTER DATABASE postgres OWNER TO postgres;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;

CREATE SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role;
CREATE EXTENSION pgcrypto WITH SCHEMA extensions;
