/**
 * Tables and the append function of the PostgreSQL event store.
 *
 * Why positions are not a `bigserial`: sequence numbers are taken before commit, so a
 * transaction that commits later can hold a smaller number, and a reader that already moved
 * past it would skip that event forever. Instead an event's position is
 * `xid8 * 2^20 + index in its append`. Readers only return rows whose transaction id is below
 * `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has ended,
 * and every transaction that can still commit has an id at or above it, so anything that
 * becomes visible later sorts after everything already read. Appends stay concurrent; a
 * reader waits at most for the oldest open writing transaction.
 *
 * Appending is one statement (`es_append`), so it costs one round trip and is atomic in
 * autocommit. Appends that queue behind others go as one `es_append_batch` statement: one
 * transaction, its positions running on across the items, each item in a subtransaction
 * that keeps its own outcome (see `group-commit.ts`).
 */

/** Events per append are limited by the index bits of a position. */
export const POSITION_INDEX_BITS = 20n;
export const MAX_EVENTS_PER_APPEND = 1 << 20;

/** Raised by `es_append` when the stream is not at the expected revision. */
export const WRONG_EXPECTED_REVISION_SQLSTATE = 'QE001';
/** Raised by `es_append` when some of the event ids are already stored. */
export const DUPLICATE_EVENT_ID_SQLSTATE = 'QE002';
/** Raised by `es_append` when a guard stream is not at its revision (detail: `<actual>`, message: the stream). */
export const GUARD_REVISION_SQLSTATE = 'QE003';

export const EVENT_STORE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS es_streams (
  stream_id text PRIMARY KEY,
  revision  bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS es_events (
  position    bigint PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  stream_id   text NOT NULL,
  revision    bigint NOT NULL,
  type        text NOT NULL,
  version     integer NOT NULL,
  data        jsonb NOT NULL,
  metadata    jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, revision)
);

CREATE INDEX IF NOT EXISTS es_events_type_position ON es_events (type, position);

-- The position horizon: positions below it belong to ended transactions only.
CREATE OR REPLACE FUNCTION es_visible_horizon() RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << ${POSITION_INDEX_BITS}
$$;

-- p_expected: 'any' | 'no_stream' | 'stream_exists' | a decimal revision.
-- p_events: a JSON array of {id, type, version, data, metadata}.
-- p_guards: NULL or a JSON array of {stream, revision} ('no_stream' or a decimal revision):
-- other streams the decision read. Each must be at that revision; it is share-locked until
-- commit, so no append to it commits in between. Raises ${GUARD_REVISION_SQLSTATE} otherwise.
-- Raises ${WRONG_EXPECTED_REVISION_SQLSTATE} (detail: the actual revision) on a revision conflict and
-- ${DUPLICATE_EVENT_ID_SQLSTATE} when an event id is already stored; either way nothing is written, and the
-- client decides whether it was an idempotent retry (es_find_events). Keeping that lookup
-- off the happy path saves an index probe per append.
-- The three-argument form of earlier versions; a call with three arguments now takes the
-- default guards.
DROP FUNCTION IF EXISTS es_append(text, text, jsonb);

-- The body of an append, shared by es_append and es_append_batch: checks the expected revision
-- and the guards, and writes the events at positions p_base, p_base + 1, ...; returns the
-- stream's revision after it. The callers own the transaction and the positions.
CREATE OR REPLACE FUNCTION es_append_at(p_stream_id text, p_expected text, p_events jsonb, p_guards jsonb, p_base bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n        integer := jsonb_array_length(p_events);
  v_rev    bigint;
  v_actual bigint;
  v_count  integer;
  v_guard  record;
  v_at     bigint;
BEGIN
  IF p_expected = 'any' THEN
    INSERT INTO es_streams AS s (stream_id, revision) VALUES (p_stream_id, n - 1)
      ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + n
      RETURNING s.revision INTO v_rev;
  ELSIF p_expected = 'no_stream' THEN
    INSERT INTO es_streams (stream_id, revision) VALUES (p_stream_id, n - 1)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING revision INTO v_rev;
  ELSIF p_expected = 'stream_exists' THEN
    UPDATE es_streams SET revision = revision + n WHERE stream_id = p_stream_id
      RETURNING revision INTO v_rev;
  ELSE
    UPDATE es_streams SET revision = revision + n
     WHERE stream_id = p_stream_id AND revision = p_expected::bigint
      RETURNING revision INTO v_rev;
  END IF;

  IF v_rev IS NULL THEN
    SELECT revision INTO v_actual FROM es_streams WHERE stream_id = p_stream_id;
    RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_REVISION_SQLSTATE}',
      MESSAGE = 'wrong expected revision', DETAIL = coalesce(v_actual::text, 'no_stream');
  END IF;

  IF p_guards IS NOT NULL THEN
    FOR v_guard IN SELECT x->>'stream' AS stream, x->>'revision' AS revision FROM jsonb_array_elements(p_guards) AS x LOOP
      v_at := NULL;
      SELECT s.revision INTO v_at FROM es_streams s WHERE s.stream_id = v_guard.stream FOR SHARE;
      IF (v_guard.revision = 'no_stream' AND v_at IS NOT NULL)
         OR (v_guard.revision <> 'no_stream' AND v_at IS DISTINCT FROM v_guard.revision::bigint) THEN
        RAISE EXCEPTION USING ERRCODE = '${GUARD_REVISION_SQLSTATE}',
          MESSAGE = v_guard.stream, DETAIL = coalesce(v_at::text, 'no_stream');
      END IF;
    END LOOP;
  END IF;

  INSERT INTO es_events (position, event_id, stream_id, revision, type, version, data, metadata)
  SELECT p_base + x.ord - 1,
         (x.e->>'id')::uuid,
         p_stream_id,
         v_rev - n + x.ord,
         x.e->>'type',
         (x.e->>'version')::integer,
         x.e->'data',
         x.e->'metadata'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, ord)
  ON CONFLICT (event_id) DO NOTHING;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count < n THEN
    RAISE EXCEPTION USING ERRCODE = '${DUPLICATE_EVENT_ID_SQLSTATE}',
      MESSAGE = 'some event ids are already stored';
  END IF;
  RETURN v_rev;
END
$$;

CREATE OR REPLACE FUNCTION es_append(p_stream_id text, p_expected text, p_events jsonb, p_guards jsonb DEFAULT NULL)
RETURNS TABLE (next_revision bigint, last_position bigint, appended boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_base bigint;
  v_rev  bigint;
BEGIN
  -- Positions come from this transaction's id; an earlier write in the same transaction
  -- would have taken an id before the reader's horizon could account for it.
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'es_append must be the first write of its transaction';
  END IF;
  v_base := pg_current_xact_id()::text::bigint << ${POSITION_INDEX_BITS};
  v_rev := es_append_at(p_stream_id, p_expected, p_events, p_guards, v_base);
  RETURN QUERY SELECT v_rev, v_base + jsonb_array_length(p_events) - 1, true;
END
$$;

-- Several appends in one transaction (group commit): p_items is a JSON array of
-- {stream, expected, events, guards?}, each as es_append takes them. Each item runs in a
-- subtransaction of its own, so an item refused with ${WRONG_EXPECTED_REVISION_SQLSTATE}, ${DUPLICATE_EVENT_ID_SQLSTATE}, ${GUARD_REVISION_SQLSTATE} or a unique
-- violation writes nothing and the others still commit; its row carries the SQLSTATE,
-- message and detail that es_append would have raised. The items' events take consecutive
-- positions of this transaction in item order (a refused item takes none). Any other error
-- fails the whole call, and nothing is written.
CREATE OR REPLACE FUNCTION es_append_batch(p_items jsonb)
RETURNS TABLE (item integer, next_revision bigint, last_position bigint, error_code text, error_message text, error_detail text)
LANGUAGE plpgsql AS $$
DECLARE
  v_base  bigint;
  v_next  bigint := 0;
  v_item  jsonb;
  v_ord   integer;
  v_n     integer;
  v_rev   bigint;
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'es_append_batch must be the first write of its transaction';
  END IF;
  v_base := pg_current_xact_id()::text::bigint << ${POSITION_INDEX_BITS};
  FOR v_item, v_ord IN SELECT x.e, x.ord FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, ord) LOOP
    v_n := jsonb_array_length(v_item->'events');
    IF v_next + v_n > ${MAX_EVENTS_PER_APPEND} THEN
      RAISE EXCEPTION 'at most ${MAX_EVENTS_PER_APPEND} events per transaction';
    END IF;
    item := v_ord;
    error_code := NULL;
    error_message := NULL;
    error_detail := NULL;
    BEGIN
      v_rev := es_append_at(v_item->>'stream', v_item->>'expected', v_item->'events',
                            NULLIF(v_item->'guards', 'null'::jsonb), v_base + v_next);
      next_revision := v_rev;
      last_position := v_base + v_next + v_n - 1;
      v_next := v_next + v_n;
    EXCEPTION WHEN SQLSTATE '${WRONG_EXPECTED_REVISION_SQLSTATE}' OR SQLSTATE '${DUPLICATE_EVENT_ID_SQLSTATE}' OR SQLSTATE '${GUARD_REVISION_SQLSTATE}' OR unique_violation THEN
      GET STACKED DIAGNOSTICS error_code = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT, error_detail = PG_EXCEPTION_DETAIL;
      next_revision := NULL;
      last_position := NULL;
    END;
    RETURN NEXT;
  END LOOP;
END
$$;
`;
