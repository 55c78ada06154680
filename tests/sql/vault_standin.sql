-- Test stack only. This file STANDS IN FOR the `supabase_vault` extension
-- (0.3.x) that Supabase ships; it is never installed on a real project.
--
-- It reproduces what setup.sql relies on, with the same schema name, table
-- and view columns, function signatures and grants to `postgres`:
--   vault.secrets(id, name, description, secret, key_id, nonce, created_at, updated_at)
--     with a unique index on name where name is not null
--   vault.decrypted_secrets: the same columns plus decrypted_secret
--   vault.create_secret(new_secret, new_name, new_description, new_key_id) -> uuid
--   vault.update_secret(secret_id, new_secret, new_name, new_description, new_key_id)
--   postgres: USAGE on vault; SELECT, DELETE on vault.secrets and
--     vault.decrypted_secrets; EXECUTE on create_secret and update_secret.
--
-- Encryption at rest uses pgcrypto (authenticated OpenPGP symmetric
-- encryption, AES-256) under a root key that lives in the server
-- configuration (`vault_standin.root_key`), outside every table, so pg_dump
-- output holds ciphertext only, as with the real extension. Each ciphertext is
-- bound to its row id, as the real extension binds it with associated data.
-- Applied by `supabase_admin`.

CREATE SCHEMA vault;

CREATE FUNCTION vault._root_key()
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_key text := pg_catalog.current_setting('vault_standin.root_key', true);
BEGIN
  IF v_key IS NULL OR pg_catalog.length(v_key) < 32 THEN
    RAISE EXCEPTION 'vault stand-in: server setting vault_standin.root_key is missing';
  END IF;
  RETURN v_key;
END
$$;

CREATE FUNCTION vault._encrypt(p_id uuid, p_secret text)
RETURNS text
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT pg_catalog.encode(
    extensions.pgp_sym_encrypt(p_id::text || ':' || p_secret, vault._root_key(),
                               'cipher-algo=aes256, s2k-mode=1'),
    'base64')
$$;

CREATE FUNCTION vault._decrypt(p_id uuid, p_ciphertext text)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_plain text := extensions.pgp_sym_decrypt(pg_catalog.decode(p_ciphertext, 'base64'), vault._root_key());
  v_prefix text := p_id::text || ':';
BEGIN
  IF NOT pg_catalog.starts_with(v_plain, v_prefix) THEN
    RAISE EXCEPTION 'vault stand-in: ciphertext does not belong to secret %', p_id;
  END IF;
  RETURN pg_catalog.substr(v_plain, pg_catalog.length(v_prefix) + 1);
END
$$;

CREATE TABLE vault.secrets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text,
  description text NOT NULL DEFAULT '',
  secret      text NOT NULL,
  key_id      uuid,
  nonce       bytea DEFAULT extensions.gen_random_bytes(16),
  created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX secrets_name_idx ON vault.secrets USING btree (name) WHERE name IS NOT NULL;

CREATE VIEW vault.decrypted_secrets AS
SELECT s.id,
       s.name,
       s.description,
       s.secret,
       vault._decrypt(s.id, s.secret) AS decrypted_secret,
       s.key_id,
       s.nonce,
       s.created_at,
       s.updated_at
FROM vault.secrets AS s;

CREATE FUNCTION vault.create_secret(
  new_secret text,
  new_name text = NULL,
  new_description text = '',
  new_key_id uuid = NULL
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid := pg_catalog.gen_random_uuid();
BEGIN
  INSERT INTO vault.secrets (id, secret, name, description)
  VALUES (v_id, vault._encrypt(v_id, new_secret), new_name, new_description);
  RETURN v_id;
END
$$;

CREATE FUNCTION vault.update_secret(
  secret_id uuid,
  new_secret text = NULL,
  new_name text = NULL,
  new_description text = NULL,
  new_key_id uuid = NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  UPDATE vault.secrets AS s
  SET secret = CASE WHEN new_secret IS NULL THEN s.secret ELSE vault._encrypt(s.id, new_secret) END,
      name = COALESCE(new_name, s.name),
      description = COALESCE(new_description, s.description),
      updated_at = pg_catalog.now()
  WHERE s.id = secret_id;
END
$$;

REVOKE ALL ON SCHEMA vault FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault FROM PUBLIC;
GRANT USAGE ON SCHEMA vault TO postgres WITH GRANT OPTION;
GRANT SELECT, DELETE ON vault.secrets, vault.decrypted_secrets TO postgres WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION vault.create_secret(text, text, text, uuid),
                          vault.update_secret(uuid, text, text, text, uuid)
  TO postgres WITH GRANT OPTION;
-- The view's decryption runs as its caller; postgres may call it, as it may
-- read vault.decrypted_secrets on Supabase.
GRANT EXECUTE ON FUNCTION vault._decrypt(uuid, text) TO postgres;
