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
