CREATE OR REPLACE FUNCTION vault_bridge.purge_versions()
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_row record;
  v_count integer := 0;
BEGIN
  -- At most max_purge_per_call() a call, oldest first, through the partial
  -- index of kept values: the cost of an admin call stays bounded however
  -- many versions fell due since the last one; the rest go at the next.
  FOR v_row IN
    SELECT x.secret_id, x.version, x.value_id FROM vault_bridge.secret_versions AS x
    WHERE x.value_id IS NOT NULL AND x.keep_until <= pg_catalog.now()
    ORDER BY x.keep_until
    LIMIT vault_bridge.max_purge_per_call()
    FOR UPDATE SKIP LOCKED
  LOOP
    DELETE FROM vault.secrets AS s WHERE s.id = v_row.value_id;
    UPDATE vault_bridge.secret_versions AS x SET value_id = NULL, purged_at = pg_catalog.now()
    WHERE x.secret_id = v_row.secret_id AND x.version = v_row.version;
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END
$$;
COMMENT ON FUNCTION vault_bridge.purge_versions() IS
  'Internal. Deletes from Vault the kept values of versions past their keep_until (at most vault_bridge.max_purge_per_call(), oldest first) and marks them purged; returns how many. Run by every admin entry point (list_secrets_status, get_secret, set_secret, read_access_log, delete_secret, secret_rollout, history, rotate, rollback), so a version goes at the next admin call past its time.';

CREATE OR REPLACE FUNCTION vault_bridge.lock_secret(p_secret_id uuid)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('vault_bridge.version:' || p_secret_id::text, 0)) $$;
COMMENT ON FUNCTION vault_bridge.lock_secret(uuid) IS
  'Internal. The one lock every change of a secret''s value, versions or record takes (rotate, rollback, set_secret, delete, history, apply_meta, so record_secret_check and a listing''s settle_outside_changes too), before Vault''s own row lock, until the end of the transaction: postgres may not lock rows of vault.secrets, so a transaction-scoped advisory lock keyed by the Vault id serialises them; a second caller waits for the first to commit, so a value set during a rotation is never lost, a rotation racing a delete leaves nothing behind and two callers never both record version 1.';

CREATE OR REPLACE FUNCTION vault_bridge.current_version(p_secret_id uuid)
RETURNS vault_bridge.secret_versions
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_cur vault_bridge.secret_versions%ROWTYPE;
  v_since timestamptz;
BEGIN
  SELECT COALESCE(m.rotated_at, s.updated_at) INTO v_since
  FROM vault.secrets AS s LEFT JOIN vault_bridge.secret_meta AS m ON m.secret_id = s.id
  WHERE s.id = p_secret_id;
  SELECT x.* INTO v_cur FROM vault_bridge.secret_versions AS x
  WHERE x.secret_id = p_secret_id AND x.superseded_at IS NULL FOR UPDATE;
  IF FOUND AND v_cur.created_at >= v_since THEN
    RETURN v_cur;
  END IF;
  IF FOUND THEN
    -- The value was replaced another way (set_secret) since: that version was not kept.
    UPDATE vault_bridge.secret_versions AS x SET superseded_at = v_since, purged_at = v_since
    WHERE x.secret_id = p_secret_id AND x.version = v_cur.version;
  END IF;
  INSERT INTO vault_bridge.secret_versions (secret_id, version, created_at)
  VALUES (p_secret_id, COALESCE(v_cur.version, 0) + 1, v_since)
  RETURNING * INTO v_cur;
  RETURN v_cur;
END
$$;
COMMENT ON FUNCTION vault_bridge.current_version(uuid) IS
  'Internal. The version row of a secret''s current value, locked; recorded first when there is none, or when the value was replaced without a version (by set_secret) since the last one, which is then marked superseded and not kept.';

CREATE OR REPLACE FUNCTION vault_bridge.rollout_since(p_secret_id uuid)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_since timestamptz;
  v_row vault_bridge.secret_versions%ROWTYPE;
BEGIN
  -- Vault's updated_at is the changing transaction's start; a gateway whose
  -- transaction started after it but before the change committed read the
  -- old value. Only a resolve after a later transaction saw the change
  -- committed surely holds the new one: that moment is stamped once on the
  -- current version (settled_at), and a poll after that is one indexed read.
  SELECT COALESCE(m.rotated_at, s.updated_at) INTO v_since
  FROM vault.secrets AS s LEFT JOIN vault_bridge.secret_meta AS m ON m.secret_id = s.id
  WHERE s.id = p_secret_id;
  SELECT x.* INTO v_row FROM vault_bridge.secret_versions AS x
  WHERE x.secret_id = p_secret_id AND x.superseded_at IS NULL;
  IF FOUND AND v_row.settled_at IS NOT NULL AND v_row.created_at >= v_since THEN
    RETURN LEAST(v_row.settled_at, v_since + vault_bridge.rollout_settle());
  END IF;
  IF v_since = pg_catalog.now() THEN
    -- Changed by this very transaction (its start is the change's stamp): everything it reads after sees the change.
    RETURN v_since;
  END IF;
  PERFORM vault_bridge.lock_secret(p_secret_id);
  v_row := vault_bridge.current_version(p_secret_id);
  IF v_row.settled_at IS NULL THEN
    UPDATE vault_bridge.secret_versions AS x SET settled_at = pg_catalog.clock_timestamp()
    WHERE x.secret_id = p_secret_id AND x.version = v_row.version
    RETURNING x.* INTO v_row;
  END IF;
  -- No change stays uncommitted longer than change_settle() (the change feed's assumption too): a first look
  -- long after the change does not push every resolve since before the cut.
  RETURN LEAST(v_row.settled_at, v_since + vault_bridge.rollout_settle());
END
$$;
COMMENT ON FUNCTION vault_bridge.rollout_since(uuid) IS
  'Internal. From when a resolve of this secret surely returned its current value: the first moment a transaction after the change saw it committed, stamped once on the current version row (recorded first when there is none), and at the latest change_settle() after the change (no change stays uncommitted longer, as the change feed assumes). secret_rollout and secret_rollout_progress count a gateway updated only for a resolve whose transaction started after it; one that started earlier may have read the old value.';

CREATE OR REPLACE FUNCTION vault_bridge.version_by()
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT COALESCE(vault_bridge.request_client() ->> 'host', vault_bridge.request_caller() ->> 'role', 'sql')
$$;
COMMENT ON FUNCTION vault_bridge.version_by() IS
  'Internal. Who a version is recorded as stored by: the admin''s host (x-bridge-host, cut and escaped), else the API role, else sql.';

CREATE OR REPLACE FUNCTION vault_bridge.keep_previous(
  p_secret_id uuid,
  p_name text,
  p_current vault_bridge.secret_versions,
  p_keep interval
)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_value text;
  v_kept uuid;
  v_until timestamptz := pg_catalog.now() + p_keep;
BEGIN
  SELECT d.decrypted_secret INTO v_value FROM vault.decrypted_secrets AS d WHERE d.id = p_secret_id;
  -- An unnamed Vault secret: no name, so no resolve, ref, listing or change feed can reach it.
  v_kept := vault.create_secret(v_value, NULL,
    pg_catalog.format('vault_bridge: version %s of %s, kept until %s', p_current.version,
                      pg_catalog.left(p_name, vault_bridge.max_name_chars()), v_until));
  UPDATE vault_bridge.secret_versions AS x
  SET value_id = v_kept, superseded_at = pg_catalog.now(), keep_until = v_until
  WHERE x.secret_id = p_secret_id AND x.version = p_current.version;
  RETURN v_until;
END
$$;
COMMENT ON FUNCTION vault_bridge.keep_previous(uuid, text, vault_bridge.secret_versions, interval) IS
  'Internal. Copies the current value of a secret into an unnamed Vault secret of its own and marks its version row superseded and kept until now() + p_keep; returns that time. Called just before the live value is replaced, in the same transaction.';

CREATE OR REPLACE FUNCTION vault_bridge.check_rotation(p_access_type text, p_name text, p_keep interval, p_status text)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid := vault_bridge.id_by_name(p_access_type, p_name);
BEGIN
  IF p_keep IS NULL OR p_keep < interval '0' OR p_keep > vault_bridge.max_policy_interval() THEN
    PERFORM vault_bridge.fail(p_access_type, v_id, p_name, 'p_keep is not an interval from 0 to a century', '22023',
      'pass how long to keep the previous value, e.g. a week');
  END IF;
  IF p_status IS NOT NULL AND NOT p_status = ANY (vault_bridge.check_statuses()) THEN
    PERFORM vault_bridge.fail(p_access_type, v_id, p_name, 'p_status is not a test outcome', '22023',
      'one of ' || pg_catalog.array_to_string(vault_bridge.check_statuses(), ', ') || ', or NULL when untested');
  END IF;
  IF v_id IS NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'store it first (set_secret): a rotation replaces an existing value');
  END IF;
  -- One change of a secret at a time: the second waits for the first to commit.
  PERFORM vault_bridge.lock_secret(v_id);
  IF NOT EXISTS (SELECT FROM vault.secrets AS s WHERE s.id = v_id) THEN
    -- Deleted by the transaction this one waited for: nothing to rotate, nothing to copy.
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'store it first (set_secret): a rotation replaces an existing value');
  END IF;
  PERFORM vault_bridge.purge_versions();
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION vault_bridge.check_rotation(text, text, interval, text) IS
  'Internal. Validates a rotation or rollback (name, p_keep, p_status), raising before anything changes; takes the secret''s transaction lock, purges versions past their time and returns the secret''s Vault id.';

CREATE OR REPLACE FUNCTION public.rotate_secret_version(
  p_name text,
  p_secret text,
  p_keep interval DEFAULT NULL,
  p_status text DEFAULT NULL,
  p_message text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_cur vault_bridge.secret_versions%ROWTYPE;
  v_until timestamptz;
BEGIN
  PERFORM vault_bridge.check_store(p_name, p_secret);
  p_keep := COALESCE(p_keep, vault_bridge.default_keep_previous());
  v_id := vault_bridge.check_rotation('rotate', p_name, p_keep, p_status);
  v_cur := vault_bridge.current_version(v_id);
  v_until := vault_bridge.keep_previous(v_id, p_name, v_cur, p_keep);
  PERFORM vault.update_secret(v_id, p_secret);
  PERFORM vault_bridge.apply_meta(v_id, NULL, true, NULL);
  IF p_status IS NOT NULL THEN
    UPDATE vault_bridge.secret_meta AS m
    SET checked_at = pg_catalog.now(), check_status = p_status,
        check_message = vault_bridge.escaped(pg_catalog.left(COALESCE(p_message, ''), vault_bridge.max_check_message_chars()))
    WHERE m.secret_id = v_id;
  END IF;
  INSERT INTO vault_bridge.secret_versions (secret_id, version, created_at, created_by, check_status)
  VALUES (v_id, v_cur.version + 1, pg_catalog.now(), vault_bridge.version_by(), p_status);
  PERFORM vault_bridge.log_access('rotate', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
  IF p_status IS NOT NULL THEN
    PERFORM vault_bridge.log_access('test', ARRAY[v_id], ARRAY[p_name],
      ARRAY[CASE WHEN p_status = 'ok' THEN NULL ELSE 'provider test: ' || p_status END]);
  END IF;
  -- With p_keep 0 the previous value goes in this same call.
  PERFORM vault_bridge.purge_versions();
  RETURN pg_catalog.jsonb_build_object(
    'id', v_id, 'version', v_cur.version + 1, 'previous', v_cur.version, 'changed_at', pg_catalog.now(),
    'keep_until', v_until);
END
$$;
REVOKE ALL ON FUNCTION public.rotate_secret_version(text, text, interval, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rotate_secret_version(text, text, interval, text, text) TO service_role;
COMMENT ON FUNCTION public.rotate_secret_version(text, text, interval, text, text) IS
  'service_role only. `bridge secrets rotate`: replaces the value of an existing secret under the same Vault id (every ref keeps working) and keeps the previous value as an unnamed Vault secret of its own for p_keep (0 to a century, NULL for vault_bridge.default_keep_previous(); purged at the first rotate, rollback or history call past it, this one included), recorded as a version in vault_bridge.secret_versions. p_status and p_message are the provider test of the new value made by the caller before the call (ok, invalid or unreachable, message redacted by the bridge; NULL when untested), recorded as the secret''s last test and against the new version. Returns {"id", "version", "previous", "changed_at", "keep_until"}. Raises PT404 for an unknown name, 22023 for a bad name, p_keep or p_status, before anything changes. Audited as rotate (and test).';

CREATE OR REPLACE FUNCTION public.rollback_secret_version(p_name text, p_keep interval DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_cur vault_bridge.secret_versions%ROWTYPE;
  v_target vault_bridge.secret_versions%ROWTYPE;
  v_value text;
BEGIN
  p_keep := COALESCE(p_keep, vault_bridge.default_keep_previous());
  v_id := vault_bridge.check_rotation('rollback', p_name, p_keep, NULL);
  v_cur := vault_bridge.current_version(v_id);
  SELECT x.* INTO v_target FROM vault_bridge.secret_versions AS x
  WHERE x.secret_id = v_id AND x.version < v_cur.version AND x.value_id IS NOT NULL
    -- Past its time it is as good as purged (the purge is capped a call): never restored.
    AND x.keep_until > pg_catalog.now()
  ORDER BY x.version DESC LIMIT 1 FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('rollback', v_id, p_name, pg_catalog.format('no previous version of %s is kept', p_name), 'PT404',
      'history_secret_versions shows what is kept; a version is kept for p_keep after a rotate_secret_version');
  END IF;
  SELECT d.decrypted_secret INTO v_value FROM vault.decrypted_secrets AS d WHERE d.id = v_target.value_id;
  IF v_value IS NULL THEN
    -- Its Vault secret was deleted behind the bridge's back: nothing to restore.
    PERFORM vault_bridge.fail('rollback', v_id, p_name,
      pg_catalog.format('the kept value of version %s of %s is no longer in Vault', v_target.version, p_name), 'PT404',
      'rotate to a new value instead (rotate_secret_version)');
  END IF;
  PERFORM vault_bridge.keep_previous(v_id, p_name, v_cur, p_keep);
  PERFORM vault.update_secret(v_id, v_value);
  -- The restored value is current again: its kept copy goes, its row says so.
  DELETE FROM vault.secrets AS s WHERE s.id = v_target.value_id;
  UPDATE vault_bridge.secret_versions AS x SET value_id = NULL, purged_at = pg_catalog.now()
  WHERE x.secret_id = v_id AND x.version = v_target.version;
  PERFORM vault_bridge.apply_meta(v_id, NULL, true, NULL);
  INSERT INTO vault_bridge.secret_versions (secret_id, version, created_at, created_by, check_status, restored_from)
  VALUES (v_id, v_cur.version + 1, pg_catalog.now(), vault_bridge.version_by(), v_target.check_status, v_target.version);
  PERFORM vault_bridge.log_access('rollback', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
  PERFORM vault_bridge.purge_versions();
  RETURN pg_catalog.jsonb_build_object(
    'id', v_id, 'version', v_cur.version + 1, 'restored_from', v_target.version, 'previous', v_cur.version,
    'changed_at', pg_catalog.now(), 'keep_until', pg_catalog.now() + p_keep);
END
$$;
REVOKE ALL ON FUNCTION public.rollback_secret_version(text, interval) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rollback_secret_version(text, interval) TO service_role;
COMMENT ON FUNCTION public.rollback_secret_version(text, interval) IS
  'service_role only. `bridge secrets rollback`: the newest kept previous version''s value becomes current again under the same Vault id (a rotation in its own right: the change feed reports it, and the value it replaces is kept for p_keep, NULL for vault_bridge.default_keep_previous()). Recorded as a new version restored_from the old one, whose kept copy is deleted. Returns {"id", "version", "restored_from", "previous", "changed_at", "keep_until"}. Raises PT404 for an unknown name or when no previous version is kept. Audited as rollback.';

CREATE OR REPLACE FUNCTION public.history_secret_versions(p_name text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid := vault_bridge.id_by_name('audit', p_name);
  v_cur vault_bridge.secret_versions%ROWTYPE;
BEGIN
  IF v_id IS NULL THEN
    PERFORM vault_bridge.fail('audit', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.lock_secret(v_id);
  PERFORM vault_bridge.purge_versions();
  v_cur := vault_bridge.current_version(v_id);
  PERFORM vault_bridge.log_access('audit', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
  RETURN pg_catalog.jsonb_build_object('name', p_name, 'versions', COALESCE((
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'version', h.version, 'created_at', h.created_at, 'by', h.created_by, 'status', h.check_status,
             'current', h.superseded_at IS NULL, 'superseded_at', h.superseded_at, 'kept', h.value_id IS NOT NULL AND h.keep_until > pg_catalog.now()
                       AND EXISTS (SELECT FROM vault.secrets AS k WHERE k.id = h.value_id),
             'keep_until', h.keep_until, 'purged_at', h.purged_at, 'restored_from', h.restored_from)
           ORDER BY h.version DESC)
    FROM (SELECT x.* FROM vault_bridge.secret_versions AS x WHERE x.secret_id = v_id
          ORDER BY x.version DESC LIMIT vault_bridge.max_log_rows()) AS h), '[]'::jsonb));
END
$$;
REVOKE ALL ON FUNCTION public.history_secret_versions(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.history_secret_versions(text) TO service_role;
COMMENT ON FUNCTION public.history_secret_versions(text) IS
  'service_role only. `bridge secrets history`: {"name", "versions": [{"version", "created_at", "by", "status", "current", "superseded_at", "kept", "keep_until", "purged_at", "restored_from"}]}, newest first, at most vault_bridge.max_log_rows(). Never a value. Purges versions past their time first. Raises PT404 for an unknown name. Audited as audit.';

CREATE OR REPLACE FUNCTION public.secret_rollout_progress(p_name text, p_changed_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_changed timestamptz;
  v_settled timestamptz;
  v_answer jsonb;
BEGIN
  SELECT s.id, s.updated_at INTO v_id, v_changed FROM vault.secrets AS s WHERE s.id = vault_bridge.id_by_name('audit', p_name);
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('audit', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.purge_versions();
  PERFORM vault_bridge.log_access('audit', ARRAY[NULL::uuid], ARRAY[p_name], ARRAY[NULL::text]);
  IF p_changed_at IS NULL OR v_changed IS DISTINCT FROM p_changed_at THEN
    -- Changed again since the caller's full report: it must ask secret_rollout afresh.
    RETURN pg_catalog.jsonb_build_object('name', p_name, 'changed_at', v_changed, 'updated', NULL);
  END IF;
  v_settled := vault_bridge.rollout_since(v_id);
  -- Only the rows since the change, through the covering per-name index: what
  -- a poll needs once secret_rollout has said who was seen before it.
  SELECT pg_catalog.jsonb_build_object('name', p_name, 'changed_at', v_changed,
    'updated', COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('gateway', g.gateway, 'via', g.via, 'resolved_at', g.at)
                          ORDER BY g.gateway), '[]'::jsonb))
  INTO v_answer
  FROM (
    SELECT CASE WHEN l.token_name IS NOT NULL THEN 'token' ELSE 'host' END AS via,
           CASE WHEN l.token_name IS NOT NULL THEN l.tenant || '/' || l.token_name ELSE l.host END AS gateway,
           pg_catalog.max(l.accessed_at) AS at
    FROM public.vault_access_log AS l
    WHERE l.secret_name = p_name AND l.success AND l.access_type = 'resolve' AND l.accessed_at >= v_settled
      AND (l.token_name IS NOT NULL OR l.host IS NOT NULL)
      -- `bridge watch`'s own reads of a gateway token (x-bridge-provider bridge-watch) are not the gateway's.
      AND l.client ->> 'provider' IS DISTINCT FROM 'bridge-watch'
    GROUP BY 1, 2
  ) AS g;
  RETURN v_answer;
END
$$;
REVOKE ALL ON FUNCTION public.secret_rollout_progress(text, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.secret_rollout_progress(text, timestamptz) TO service_role;
COMMENT ON FUNCTION public.secret_rollout_progress(text, timestamptz) IS
  'service_role only. What `bridge secrets rotate --wait` polls after one secret_rollout: {"name", "changed_at", "updated": [{"gateway", "via", "resolved_at"}]}, the gateways whose resolve started after the change was seen committed (vault_bridge.rollout_since; the change is p_changed_at, the changed_at secret_rollout gave), the reads of `bridge watch` itself (provider bridge-watch) aside, reading only the audit rows since then; "updated" is null when the secret changed again since p_changed_at (ask secret_rollout afresh). Raises PT404 for an unknown name. Audited as audit.';
