-- rebuild.sql: `taskole migrate --rebuild-rollups` (consumers/migrate.Rebuild) recomputes every
-- rollup from the raw tables, which stay the source of truth: it empties each rollup table,
-- then runs the same INSERT … SELECT as the migration that created it (0101, 0120; a test in
-- consumers/migrate keeps them equal). Not a numbered migration: it runs only when asked.
--
-- Stop the sink while it runs (or accept a re-run): a row the sink inserts while a table is
-- being emptied may reach neither the emptied table nor the SELECT. A row that reaches both
-- is harmless, every rollup state being idempotent (see 0120).

TRUNCATE TABLE IF EXISTS feedback_monthly;

TRUNCATE TABLE IF EXISTS booking_rollup;

TRUNCATE TABLE IF EXISTS booking_events;

TRUNCATE TABLE IF EXISTS booking_positions;

TRUNCATE TABLE IF EXISTS owner_rollup;

TRUNCATE TABLE IF EXISTS commission_rollup;

INSERT INTO feedback_monthly (business_id, month, kind, bucket, answers)
SELECT
    business_id,
    toStartOfMonth(occurred_at) AS month,
    toString(kind) AS kind,
    multiIf(kind = 'nps', multiIf(score >= 9, 'promoter', score >= 7, 'passive', 'detractor'),
            score >= 4, 'satisfied', 'unsatisfied') AS bucket,
    uniqExactState(event_id) AS answers
FROM feedback
GROUP BY business_id, month, kind, bucket;

INSERT INTO booking_rollup
SELECT
    booking_id,
    argMinIfState(client_id, (occurred_at, occurred_at_ns), status = 'completed') AS client_state,
    argMinIfState(business_id, (occurred_at, occurred_at_ns), status = 'completed') AS provider_state,
    minIfState(occurred_at, status = 'completed') AS completed_state,
    argMinIfState(currency, (occurred_at, occurred_at_ns), status = 'completed') AS currency_state,
    argMinIfState(amount, (occurred_at, occurred_at_ns), status = 'completed') AS amount_state,
    groupUniqArrayIfState((event_id, refund_amount), status = 'refunded') AS refunds_state,
    maxState(toUInt8(status = 'completed')) AS completed_flag,
    maxState(toUInt8(status = 'cancelled')) AS cancelled_flag
FROM bookings
GROUP BY booking_id;

INSERT INTO booking_events
SELECT booking_id, event_id, client_id, business_id, status, amount, currency, refund_amount,
       occurred_at, occurred_at_ns, _topic, _partition, _offset
FROM bookings;

INSERT INTO booking_positions
SELECT concat(_topic, ':', toString(_partition), ':', toString(_offset)) AS position, booking_id
FROM bookings;

INSERT INTO owner_rollup
SELECT
    client_id,
    argMaxState(owner_business_id, (_partition, _offset)) AS owner_state,
    argMaxState(owned_since, (_partition, _offset)) AS owned_since_state,
    argMaxState(toString(source), (_partition, _offset)) AS source_state,
    argMaxState(event_id, (_partition, _offset)) AS event_id_state
FROM referral_owners
GROUP BY client_id;

INSERT INTO commission_rollup
SELECT
    booking_id,
    owner_business_id,
    groupUniqArrayState((commission_id, amount)) AS entries_state
FROM commissions
GROUP BY booking_id, owner_business_id;
