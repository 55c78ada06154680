CREATE OR REPLACE FUNCTION vault_bridge.changed_outside(p_updated_at timestamptz, p_ciphertext text, p_recorded_at timestamptz, p_digest bytea)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- Vault moves updated_at for any update_secret, a description or a name
  -- too; only a new ciphertext is a new value. The digest is computed only
  -- when updated_at moved, so a read of many secrets hashes the few changed.
  SELECT COALESCE(p_updated_at > p_recorded_at
                  AND (p_digest IS NULL OR pg_catalog.sha256(pg_catalog.convert_to(p_ciphertext, 'UTF8')) <> p_digest), false)
$$;
REVOKE ALL ON FUNCTION vault_bridge.changed_outside(timestamptz, text, timestamptz, bytea) FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON FUNCTION vault_bridge.changed_outside(timestamptz, text, timestamptz, bytea) IS
  'Internal. Whether a secret''s value was changed outside the bridge: Vault''s updated_at past what the bridge last left (secret_meta.vault_updated_at) and its ciphertext no longer the one the bridge left (secret_meta.value_digest, a sha256 digest of the ciphertext, never of the value; NULL where unknown). Used by secret_policies, changes and apply_meta, the three places that void an old test and expiry.';

CREATE OR REPLACE FUNCTION vault_bridge.value_digest(p_secret_id uuid)
RETURNS bytea
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$ SELECT pg_catalog.sha256(pg_catalog.convert_to(s.secret, 'UTF8')) FROM vault.secrets AS s WHERE s.id = p_secret_id $$;
REVOKE ALL ON FUNCTION vault_bridge.value_digest(uuid) FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON FUNCTION vault_bridge.value_digest(uuid) IS
  'Internal. The sha256 digest of a Vault secret''s ciphertext as stored now (never of its value), which apply_meta records as secret_meta.value_digest; NULL when it does not exist.';

CREATE OR REPLACE FUNCTION vault_bridge.secret_policies(p_prefix text, p_names text[], p_within interval)
RETURNS TABLE (
  secret_id uuid,
  name text,
  description text,
  created_at timestamptz,
  updated_at timestamptz,
  type text,
  check_status text,
  checked_at timestamptz,
  check_message text,
  rotated_at timestamptz,
  rotate_every interval,
  expires_at timestamptz,
  due text,
  due_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  -- The due rule, computed in this one query for every row at once (a
  -- helper called per row would cost a function call each, ten thousand
  -- times for a large vault). Reads vault.secrets, never the decrypted view.
  -- A secret stored outside the bridge has no metadata: it is generic,
  -- changed when Vault last changed it. One whose value changed outside the
  -- bridge since the bridge last left it (changed_outside) was rotated then:
  -- the old value's test and expiry are not this value's. apply_meta
  -- records the same on the next write.
  SELECT v.id, v.name, v.description, v.created_at, v.updated_at, COALESCE(m.type, 'generic'),
         CASE WHEN NOT r.outside THEN m.check_status END, CASE WHEN NOT r.outside THEN m.checked_at END,
         CASE WHEN NOT r.outside THEN m.check_message END, r.rotated_at, m.rotate_every, r.expires_at,
         CASE WHEN r.expires_at <= pg_catalog.now() THEN 'expired'
              WHEN r.rotated_at + m.rotate_every <= pg_catalog.now() THEN 'overdue'
              WHEN LEAST(r.expires_at, r.rotated_at + m.rotate_every) <= pg_catalog.now() + p_within THEN 'due'
              ELSE 'ok' END,
         LEAST(r.expires_at, r.rotated_at + m.rotate_every)
  FROM vault.secrets AS v
  LEFT JOIN vault_bridge.secret_meta AS m ON m.secret_id = v.id
  CROSS JOIN LATERAL (SELECT vault_bridge.changed_outside(v.updated_at, v.secret, m.vault_updated_at, m.value_digest) AS outside) AS o
  CROSS JOIN LATERAL (SELECT o.outside,
                             CASE WHEN o.outside THEN v.updated_at ELSE COALESCE(m.rotated_at, v.updated_at) END AS rotated_at,
                             CASE WHEN NOT o.outside THEN m.expires_at END AS expires_at) AS r
  WHERE v.name IS NOT NULL
    AND (p_prefix IS NULL OR pg_catalog.starts_with(v.name, p_prefix))
    AND (p_names IS NULL OR v.name = ANY (p_names))
$$;
COMMENT ON FUNCTION vault_bridge.secret_policies(text, text[], interval) IS
  'Internal. The named secrets (by literal prefix, or these Vault names, or all) with type, last test, rotation and expiry, and when each next needs a value (due_at: its expiry or next rotation, whichever is first) and its state: expired, overdue, due (within p_within) or ok. A value changed outside the bridge (changed_outside: a description or name edit is none) counts as rotated at Vault''s updated_at, untested and without expiry. The one place the due rule is written.';

CREATE OR REPLACE FUNCTION vault_bridge.check_meta(p_access_type text, p_name text, p_meta jsonb)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_key text;
  v_every jsonb := p_meta -> 'rotate_every_s';
  v_expires jsonb := p_meta -> 'expires_at';
  v_when timestamptz;
BEGIN
  IF p_meta IS NULL THEN
    RETURN;
  END IF;
  IF pg_catalog.jsonb_typeof(p_meta) <> 'object' THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta is not a JSON object', '22023',
      'pass {"type": …, "rotate_every_s": …, "expires_at": …} or NULL');
  END IF;
  SELECT k INTO v_key FROM pg_catalog.jsonb_object_keys(p_meta) AS k
  WHERE k <> ALL (ARRAY['type', 'rotate_every_s', 'expires_at']) LIMIT 1;
  IF v_key IS NOT NULL THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name,
      pg_catalog.format('p_meta key %s is not known', pg_catalog.quote_literal(pg_catalog.left(v_key, 64))), '22023',
      'the keys are type, rotate_every_s and expires_at');
  END IF;
  IF p_meta ? 'type' AND (pg_catalog.jsonb_typeof(p_meta -> 'type') <> 'string'
                          OR NOT (p_meta ->> 'type') = ANY (vault_bridge.secret_types())) THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta type is not a secret type', '22023',
      'one of ' || pg_catalog.array_to_string(vault_bridge.secret_types(), ', '));
  END IF;
  IF v_every IS NOT NULL AND pg_catalog.jsonb_typeof(v_every) <> 'null'
     AND (pg_catalog.jsonb_typeof(v_every) <> 'number' OR (v_every #>> '{}')::numeric < 1
          OR (v_every #>> '{}')::numeric <> pg_catalog.trunc((v_every #>> '{}')::numeric)
          OR (v_every #>> '{}')::numeric > EXTRACT(epoch FROM vault_bridge.max_policy_interval())) THEN
    PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta rotate_every_s is not a whole number of seconds from 1', '22023',
      pg_catalog.format('pass whole seconds up to %s, or null for no rotation schedule', EXTRACT(epoch FROM vault_bridge.max_policy_interval())::bigint));
  END IF;
  -- Only ISO 8601 with an offset: PostgreSQL would also take 'now',
  -- 'epoch', a date in the session's time zone or a year 200000.
  IF v_expires IS NOT NULL AND pg_catalog.jsonb_typeof(v_expires) <> 'null' THEN
    BEGIN
      IF pg_catalog.jsonb_typeof(v_expires) <> 'string' OR (v_expires #>> '{}') !~ vault_bridge.timestamp_pattern() THEN
        RAISE invalid_datetime_format;
      END IF;
      v_when := (v_expires #>> '{}')::timestamptz;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
      v_when := NULL;
    END;
    IF v_when IS NULL OR NOT v_when BETWEEN pg_catalog.now() - vault_bridge.max_policy_interval()
                                        AND pg_catalog.now() + vault_bridge.max_policy_interval() THEN
      PERFORM vault_bridge.fail(p_access_type, NULL, p_name, 'p_meta expires_at is not a timestamp within a century of now', '22023',
        'pass an ISO 8601 timestamp with its offset (2027-03-31T00:00:00Z), or null for no expiry');
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION vault_bridge.check_meta(text, text, jsonb) IS
  'Internal. Raises (and logs) when set_secret''s p_meta is not {type?, rotate_every_s?, expires_at?} with a known type, a positive interval and a timestamp, before anything is changed.';

CREATE OR REPLACE FUNCTION vault_bridge.apply_meta(
  p_secret_id uuid,
  p_meta jsonb,
  p_new_value boolean,
  p_rotated_at timestamptz
)
RETURNS vault_bridge.secret_meta
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_old vault_bridge.secret_meta%ROWTYPE;
  v_new vault_bridge.secret_meta%ROWTYPE;
  v_known boolean;
BEGIN
  -- Every writer of a secret's record holds the secret's lock (callers that
  -- change the value take it first): a row lock cannot order two first
  -- records of a secret made in Studio, which have no row to lock yet.
  PERFORM vault_bridge.lock_secret(p_secret_id);
  SELECT m.* INTO v_old FROM vault_bridge.secret_meta AS m WHERE m.secret_id = p_secret_id FOR UPDATE;
  v_known := FOUND;
  -- A value changed outside the bridge (changed_outside, with Vault's
  -- updated_at before this call's own change) was rotated then:
  -- the old value's test and expiry go, as secret_policies already shows.
  IF v_known AND NOT p_new_value
     AND vault_bridge.changed_outside(p_rotated_at, (SELECT s.secret FROM vault.secrets AS s WHERE s.id = p_secret_id),
                                      v_old.vault_updated_at, v_old.value_digest) THEN
    v_old.rotated_at := p_rotated_at;
    v_old.expires_at := NULL;
    v_old.checked_at := NULL;
    v_old.check_status := NULL;
    v_old.check_message := NULL;
  END IF;
  v_new.secret_id := p_secret_id;
  v_new.type := COALESCE(p_meta ->> 'type', v_old.type, 'generic');
  -- A new type brings its own schedule unless one is given; an unchanged one keeps what was set.
  v_new.rotate_every := CASE
    WHEN p_meta ? 'rotate_every_s' THEN pg_catalog.make_interval(secs => (p_meta ->> 'rotate_every_s')::double precision)
    WHEN NOT v_known OR v_new.type IS DISTINCT FROM v_old.type THEN vault_bridge.default_rotate_every(v_new.type)
    ELSE v_old.rotate_every END;
  -- An expiry is the value's: a new one has its own, or none until told.
  v_new.expires_at := CASE WHEN p_meta ? 'expires_at' THEN (p_meta ->> 'expires_at')::timestamptz
                           WHEN p_new_value THEN NULL ELSE v_old.expires_at END;
  v_new.rotated_at := CASE WHEN p_new_value THEN pg_catalog.now() ELSE COALESCE(v_old.rotated_at, p_rotated_at) END;
  -- A test result speaks of one value as one type: a new value or type voids it.
  IF NOT p_new_value AND v_new.type = v_old.type THEN
    v_new.checked_at := v_old.checked_at;
    v_new.check_status := v_old.check_status;
    v_new.check_message := v_old.check_message;
  END IF;
  -- Vault's updated_at after this call's own change (a new value, or a
  -- description set with a policy change): what the bridge leaves.
  v_new.vault_updated_at := COALESCE((SELECT s.updated_at FROM vault.secrets AS s WHERE s.id = p_secret_id), pg_catalog.now());
  v_new.value_digest := vault_bridge.value_digest(p_secret_id);
  INSERT INTO vault_bridge.secret_meta AS m
    (secret_id, type, rotate_every, expires_at, rotated_at, checked_at, check_status, check_message, vault_updated_at, value_digest)
  VALUES (v_new.secret_id, v_new.type, v_new.rotate_every, v_new.expires_at, v_new.rotated_at,
          v_new.checked_at, v_new.check_status, v_new.check_message, v_new.vault_updated_at, v_new.value_digest)
  ON CONFLICT (secret_id) DO UPDATE
    SET type = EXCLUDED.type, rotate_every = EXCLUDED.rotate_every, expires_at = EXCLUDED.expires_at,
        rotated_at = EXCLUDED.rotated_at, checked_at = EXCLUDED.checked_at, check_status = EXCLUDED.check_status,
        check_message = EXCLUDED.check_message, vault_updated_at = EXCLUDED.vault_updated_at, value_digest = EXCLUDED.value_digest;
  RETURN v_new;
END
$$;
COMMENT ON FUNCTION vault_bridge.apply_meta(uuid, jsonb, boolean, timestamptz) IS
  'Internal. Records a secret''s metadata after a store, a rotation or a policy change: p_meta (checked by check_meta) over what was recorded; a new value resets rotated_at and clears the expiry (unless p_meta gives one), and a new value or type clears the last test. p_rotated_at is Vault''s updated_at before this call changed anything (NULL with a new value): the date a secret without a record gets when its value is kept, and, when the value changed outside the bridge (changed_outside), recorded as a rotation then (test and expiry dropped). Records Vault''s updated_at after the call as vault_updated_at and the ciphertext''s digest as value_digest.';

CREATE OR REPLACE FUNCTION vault_bridge.meta_answer(p_secret_id uuid, p_created boolean, p_meta vault_bridge.secret_meta)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT pg_catalog.jsonb_build_object(
    'id', p_secret_id, 'created', p_created, 'type', p_meta.type,
    'rotate_every', EXTRACT(epoch FROM p_meta.rotate_every)::bigint,
    'expires_at', p_meta.expires_at, 'rotated_at', p_meta.rotated_at)
$$;
COMMENT ON FUNCTION vault_bridge.meta_answer(uuid, boolean, vault_bridge.secret_meta) IS
  'Internal. What set_secret answers: the id, whether it was created, and the metadata now recorded (rotate_every in seconds).';

CREATE OR REPLACE FUNCTION public.set_secret(
  p_name text,
  p_secret text,
  p_description text DEFAULT NULL,
  p_meta jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_updated timestamptz;
BEGIN
  PERFORM vault_bridge.purge_versions();
  IF p_secret IS NULL AND p_description IS NULL AND p_meta IS NULL THEN
    -- Nothing to store and nothing to change: refused as a store without a value.
    PERFORM vault_bridge.check_store(p_name, p_secret);
  END IF;
  IF p_secret IS NULL THEN
    -- A change of description, type or schedule: the value stays, and so does rotated_at.
    v_id := vault_bridge.id_by_name('policy', p_name);
    PERFORM vault_bridge.check_meta('policy', p_name, p_meta);
    IF v_id IS NULL THEN
      PERFORM vault_bridge.fail('policy', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
        'store a value first: a type or a schedule belongs to a secret');
    END IF;
    PERFORM vault_bridge.lock_secret(v_id);
    SELECT s.updated_at INTO v_updated FROM vault.secrets AS s WHERE s.id = v_id;
    IF p_description IS NOT NULL THEN
      PERFORM vault.update_secret(v_id, NULL, NULL, p_description);
    END IF;
    PERFORM vault_bridge.log_access('policy', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
    RETURN vault_bridge.meta_answer(v_id, false, vault_bridge.apply_meta(v_id, p_meta, false, v_updated));
  END IF;
  PERFORM vault_bridge.check_store(p_name, p_secret);
  PERFORM vault_bridge.check_meta('store', p_name, p_meta);
  IF pg_catalog.strpos(p_name, vault_bridge.tenant_separator()) > 0 AND vault_bridge.tenant_of(p_name) IS NOT NULL THEN
    PERFORM vault_bridge.ensure_tenant(vault_bridge.tenant_of(p_name));
  END IF;
  -- postgres may not lock rows of vault.secrets (no UPDATE privilege), so a
  -- concurrent call is met by retrying: a create that loses to another
  -- transaction's create of the same name (unique violation, raised once that
  -- one commits) becomes a rotate, and a rotate whose row another
  -- transaction deleted meanwhile (the update finds nothing) becomes a create.
  FOR v_attempt IN 1..3 LOOP
    SELECT s.id INTO v_id FROM vault.secrets AS s WHERE s.name = p_name;
    IF FOUND THEN
      -- Waits for a rotation of this secret in flight, so it neither copies nor overwrites this value unseen.
      PERFORM vault_bridge.lock_secret(v_id);
      PERFORM vault.update_secret(v_id, p_secret, NULL, p_description);
      IF EXISTS (SELECT FROM vault.secrets AS s WHERE s.id = v_id) THEN
        PERFORM vault_bridge.log_access('rotate', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
        RETURN vault_bridge.meta_answer(v_id, false, vault_bridge.apply_meta(v_id, p_meta, true, NULL));
      END IF;
    ELSE
      BEGIN
        v_id := vault.create_secret(p_secret, p_name, COALESCE(p_description, ''));
        PERFORM vault_bridge.log_access('store', ARRAY[v_id], ARRAY[p_name], ARRAY[NULL::text]);
        RETURN vault_bridge.meta_answer(v_id, true, vault_bridge.apply_meta(v_id, p_meta, true, NULL));
      EXCEPTION WHEN unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
  -- Only under REPEATABLE READ or SERIALIZABLE, where the retries cannot see
  -- the other transaction's row, or under a storm of creates and deletes.
  PERFORM vault_bridge.fail('store', NULL, p_name,
    pg_catalog.format('secret %s is being changed by another transaction', p_name), '40001',
    'try again');
END
$$;
REVOKE ALL ON FUNCTION public.set_secret(text, text, text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.set_secret(text, text, text, jsonb) TO service_role;
COMMENT ON FUNCTION public.set_secret(text, text, text, jsonb) IS
  'service_role only. Stores the secret under this name, or replaces the value of the existing one keeping its Vault id (a rotation, which resets rotated_at; the description changes only when p_description is not NULL). p_meta {type?, rotate_every_s?, expires_at?} sets its type (a new type brings its default schedule unless rotate_every_s is given), rotation interval in seconds and expiry; null clears one. p_secret NULL changes description and metadata only, of an existing secret (PT404 otherwise), audited as policy. Returns {"id", "created", "type", "rotate_every", "expires_at", "rotated_at"}. A name T#NAME with a tenant name T records tenant T. Bad name or p_meta raises 22023. Audited as store, rotate or policy.';

CREATE OR REPLACE FUNCTION public.record_secret_check(p_name text, p_status text, p_message text, p_version timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid := vault_bridge.id_by_name('test', p_name);
  v_updated timestamptz;
BEGIN
  IF p_status IS NULL OR NOT p_status = ANY (vault_bridge.check_statuses()) THEN
    PERFORM vault_bridge.fail('test', v_id, p_name, 'p_status is not a test outcome', '22023',
      'one of ' || pg_catalog.array_to_string(vault_bridge.check_statuses(), ', '));
  END IF;
  IF p_version IS NULL THEN
    PERFORM vault_bridge.fail('test', v_id, p_name, 'p_version is NULL', '22004',
      'pass the version get_secret_version gave with the value tested');
  END IF;
  -- The secret's lock orders this against a concurrent rotation, and
  -- against a listing's first record of a secret made in Studio.
  PERFORM vault_bridge.lock_secret(v_id);
  SELECT s.updated_at INTO v_updated FROM vault.secrets AS s WHERE s.id = v_id;
  IF NOT FOUND THEN
    PERFORM vault_bridge.fail('test', NULL, p_name, pg_catalog.format('secret %s not found', p_name), 'PT404',
      'list_secrets_status shows what exists');
  END IF;
  PERFORM vault_bridge.apply_meta(v_id, NULL, false, v_updated);
  -- A verdict speaks of the value tested: if the value changed since it was
  -- read (another version), the verdict is not this value's and is dropped.
  IF v_updated IS DISTINCT FROM p_version THEN
    PERFORM vault_bridge.log_access('test', ARRAY[v_id], ARRAY[p_name],
      ARRAY['provider test discarded: the value changed while it was tested']);
    RETURN NULL;
  END IF;
  UPDATE vault_bridge.secret_meta AS m
  SET checked_at = pg_catalog.now(), check_status = p_status,
      check_message = vault_bridge.escaped(pg_catalog.left(COALESCE(p_message, ''), vault_bridge.max_check_message_chars()))
  WHERE m.secret_id = v_id;
  PERFORM vault_bridge.log_access('test', ARRAY[v_id], ARRAY[p_name],
    ARRAY[CASE WHEN p_status = 'ok' THEN NULL ELSE 'provider test: ' || p_status END]);
  RETURN pg_catalog.now();
END
$$;
REVOKE ALL ON FUNCTION public.record_secret_check(text, text, text, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.record_secret_check(text, text, text, timestamptz) TO service_role;
COMMENT ON FUNCTION public.record_secret_check(text, text, text, timestamptz) IS
  'service_role only. Records the outcome of `bridge secrets test` (ok, invalid or unreachable) and its one-line message, already redacted by the bridge, cut to vault_bridge.max_check_message_chars() and escaped, against p_version, the version of the value tested (get_secret_version); returns checked_at. When the value has changed since (another version), nothing is recorded and it returns NULL: the verdict is not the current value''s. Raises PT404 for an unknown name. Audited as test.';

CREATE OR REPLACE FUNCTION vault_bridge.settle_outside_changes()
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_id uuid;
  v_count integer := 0;
BEGIN
  -- A change made outside the bridge is pinned when a listing first sees
  -- it, and a secret made outside gets its first record then: otherwise a
  -- later description edit (which moves updated_at too) would move the
  -- rotation date of a value it did not change. Each through apply_meta,
  -- the one writer of secret_meta, under the secret's lock.
  FOR v_id IN
    SELECT s.id FROM vault.secrets AS s
    LEFT JOIN vault_bridge.secret_meta AS m ON m.secret_id = s.id
    WHERE s.name IS NOT NULL
      AND (m.secret_id IS NULL OR vault_bridge.changed_outside(s.updated_at, s.secret, m.vault_updated_at, m.value_digest))
    ORDER BY s.id
    LIMIT vault_bridge.max_settle_per_call()
  LOOP
    PERFORM vault_bridge.lock_secret(v_id);
    PERFORM vault_bridge.apply_meta(v_id, NULL, false, s.updated_at) FROM vault.secrets AS s WHERE s.id = v_id;
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END
$$;
REVOKE ALL ON FUNCTION vault_bridge.settle_outside_changes() FROM PUBLIC, anon, authenticated, service_role;
COMMENT ON FUNCTION vault_bridge.settle_outside_changes() IS
  'Internal. Records what a listing sees (at most vault_bridge.max_settle_per_call() secrets a call): a value changed outside the bridge as rotated at Vault''s updated_at, and a secret made outside the bridge with a first record (generic, rotated at its updated_at, its ciphertext''s digest), so a later description or name edit moves neither''s rotation date. Run by list_secrets_status and list_secrets_page; returns how many.';

CREATE OR REPLACE FUNCTION public.list_secrets_status(
  p_prefix text DEFAULT NULL,
  p_due_within interval DEFAULT NULL,
  p_due_only boolean DEFAULT false
)
RETURNS TABLE (
  name text,
  description text,
  type text,
  status text,
  checked_at timestamptz,
  check_message text,
  last_used_at timestamptz,
  uses bigint,
  failures bigint,
  gateways bigint,
  rotated_at timestamptz,
  rotate_every bigint,
  expires_at timestamptz,
  due text,
  due_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_within interval := COALESCE(p_due_within, vault_bridge.due_window());
BEGIN
  PERFORM vault_bridge.purge_versions();
  PERFORM vault_bridge.settle_outside_changes();
  PERFORM vault_bridge.log_access('list', ARRAY[NULL::uuid], ARRAY[p_prefix], ARRAY[NULL::text]);
  -- A use is a resolve, what a gateway does; a failure is a failed resolve
  -- or read by name (a person's own reads, `secrets get` and `secrets
  -- test`, are no use of the secret by anyone else). The
  -- covering (secret_name, accessed_at) index answers the window's counts
  -- per secret without visiting the table; the last use before the window
  -- is looked up only for a secret the window saw no use of.
  RETURN QUERY
    SELECT p.name, p.description, p.type, p.check_status, p.checked_at, p.check_message,
           COALESCE(recent.last_used_at, (
             SELECT l.accessed_at
             FROM public.vault_access_log AS l
             WHERE l.secret_name = p.name AND l.success AND l.access_type = 'resolve'
             ORDER BY l.accessed_at DESC
             LIMIT 1)),
           recent.uses, COALESCE(recent.failures, 0), recent.gateways,
           p.rotated_at, EXTRACT(epoch FROM p.rotate_every)::bigint, p.expires_at, p.due, p.due_at,
           p.created_at, p.updated_at
    FROM vault_bridge.secret_policies(p_prefix, NULL, v_within) AS p
    CROSS JOIN LATERAL (
      SELECT pg_catalog.max(l.accessed_at) FILTER (WHERE l.success AND l.access_type = 'resolve') AS last_used_at,
             pg_catalog.count(*) FILTER (WHERE l.success AND l.access_type = 'resolve') AS uses,
             pg_catalog.sum(l.name_count) FILTER (WHERE NOT l.success)::bigint AS failures,
             pg_catalog.count(DISTINCT CASE WHEN l.token_name IS NOT NULL THEN 'token ' || l.tenant || '/' || l.token_name
                                            ELSE 'host ' || l.host END) FILTER (WHERE l.success AND l.access_type = 'resolve') AS gateways
      FROM public.vault_access_log AS l
      WHERE l.secret_name = p.name
        -- The UTC days of usage_window() ending today, the window of the
        -- charts (secret_usage_days): a row's uses are its bars' sum.
        AND l.accessed_at >= (((pg_catalog.now() AT TIME ZONE 'UTC')::date - (EXTRACT(day FROM vault_bridge.usage_window())::integer - 1))::timestamp AT TIME ZONE 'UTC')
        AND l.access_type = ANY (ARRAY['resolve', 'retrieve'])
    ) AS recent
    WHERE NOT p_due_only OR p.due <> 'ok'
    ORDER BY p.name;
END
$$;
REVOKE ALL ON FUNCTION public.list_secrets_status(text, interval, boolean) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.list_secrets_status(text, interval, boolean) TO service_role;
COMMENT ON FUNCTION public.list_secrets_status(text, interval, boolean) IS
  'service_role only. One row per named secret (optionally by literal name prefix): type, last provider test, last use, uses, failures and gateways (distinct tokens, else hosts, that resolved it) over the UTC days of vault_bridge.usage_window() ending today (the days secret_usage_days charts), rotation and expiry, and due: expired, overdue, due (within p_due_within, default vault_bridge.due_window()) or ok. p_due_only keeps those not ok. Uses are successful resolves; failures are failed resolves and reads by name. Never returns or decrypts a value. Audited as list.';
