-- Version 11: kept versions of a secret's value, for `bridge secrets rotate`,
-- `rollback` and `history`. vault_bridge.secret_versions holds one row per
-- value a secret has had since it was first rotated this way: who stored it,
-- the provider's verdict on it, and, while it is kept, the id of the Vault
-- secret holding that value (an unnamed Vault secret of its own, so no name
-- and no ref can reach it). Never a value. The access_type CHECK is rebuilt
-- for 'rollback' and 'edge_sync' (one row per `bridge edge sync`,
-- record_edge_sync). The time index gains the id, the log's order's tie
-- breaker: a statement's rows share one timestamp, and a page of a busy hour
-- is then read in index order instead of sorting every row of that time.
-- secret_meta.value_digest is a digest of the value's ciphertext as the
-- bridge last left it: an edit of a description or name in Studio moves
-- Vault's updated_at but not the ciphertext, and is no rotation.
DO $step$
DECLARE
  v_version CONSTANT integer := 11;
BEGIN
  IF EXISTS (SELECT FROM vault_bridge.schema_migrations AS m WHERE m.version = v_version) THEN
    RETURN;
  END IF;
  CREATE TABLE vault_bridge.secret_versions (
    secret_id     uuid NOT NULL,
    version       integer NOT NULL CONSTRAINT secret_versions_version_check CHECK (version >= 1),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by    text,
    check_status  text,
    restored_from integer,
    value_id      uuid,
    superseded_at timestamptz,
    keep_until    timestamptz,
    purged_at     timestamptz,
    -- When a later transaction first saw this version committed (vault_bridge.rollout_since): a resolve
    -- whose transaction started before then may have read the value it replaced.
    settled_at    timestamptz,
    PRIMARY KEY (secret_id, version),
    -- The current version's value is the live secret itself: only a superseded one is kept apart.
    CONSTRAINT secret_versions_kept_check CHECK (value_id IS NULL OR (superseded_at IS NOT NULL AND keep_until IS NOT NULL)),
    CONSTRAINT secret_versions_purged_check CHECK (purged_at IS NULL OR value_id IS NULL)
  );
  EXECUTE pg_catalog.format(
    'ALTER TABLE vault_bridge.secret_versions ADD CONSTRAINT secret_versions_check_status_check CHECK (check_status = ANY (%L::text[]))',
    vault_bridge.check_statuses());
  CREATE UNIQUE INDEX secret_versions_current_idx ON vault_bridge.secret_versions (secret_id) WHERE superseded_at IS NULL;
  CREATE INDEX secret_versions_keep_idx ON vault_bridge.secret_versions (keep_until) WHERE value_id IS NOT NULL;
  REVOKE ALL ON TABLE vault_bridge.secret_versions FROM PUBLIC, anon, authenticated, service_role;
  ALTER TABLE public.vault_access_log DROP CONSTRAINT IF EXISTS vault_access_log_access_type_check;
  EXECUTE pg_catalog.format(
    'ALTER TABLE public.vault_access_log ADD CONSTRAINT vault_access_log_access_type_check CHECK (access_type = ANY (%L::text[]))',
    vault_bridge.access_types());
  ALTER TABLE vault_bridge.secret_meta ADD COLUMN value_digest bytea;
  -- Only where the record is still the value's: a change made outside the
  -- bridge before this step keeps counting as one (no digest to compare).
  UPDATE vault_bridge.secret_meta AS m SET value_digest = pg_catalog.sha256(pg_catalog.convert_to(s.secret, 'UTF8'))
  FROM vault.secrets AS s
  WHERE s.id = m.secret_id AND s.updated_at <= m.vault_updated_at;
  DROP INDEX IF EXISTS public.vault_access_log_accessed_at_idx;
  CREATE INDEX vault_access_log_accessed_at_idx ON public.vault_access_log (accessed_at, id);
  INSERT INTO vault_bridge.schema_migrations (version, description)
  VALUES (v_version, 'kept versions of secret values for rotate, rollback and history; access types rollback and edge_sync; the time index ordered by id too; a digest of the ciphertext tells a value change from a description edit');
END
$step$;
