-- 0102_ledger_refused: booking and enrollment events the ledger refused do not count.
--
-- The ledger dead-letters input events that decode but break its rules (a refund beyond what
-- is left or in another currency, an impossible transition, an event after cancelled, a
-- record keyed by another client, ...). The sink cannot tell: such a record decodes, so it is
-- stored in the raw table like any other; the ledger's dead letter, which names the original
-- record (source_topic, source_partition, source_offset), is stored in dlq with
-- consumer = 'ledger'. The accepted_* views below are the raw input tables without those
-- records; the facts read them, so a refused refund never lowers a purchase's net value, a
-- refused completion never makes a purchase and a refused enrollment is never a rejected
-- claim. Dead letters of other consumers (the sink's own, payouts') are not refusals of
-- input events and are not consulted.
--
-- Anti-join by the record's position, not by event_id: a refused event's event_id may also
-- belong to an accepted delivery (the ledger judges each record), and positions are what a
-- dead letter names. dlq's source columns are signed (Kafka's types); the raw tables'
-- are unsigned, hence the casts (partitions and offsets are never negative).
--
-- purchases (0100) is recreated over accepted_bookings; its definition is otherwise
-- unchanged. DROP TABLE (valid for views on 18.16 and current ClickHouse) then CREATE keeps
-- this file idempotent.

CREATE VIEW IF NOT EXISTS accepted_bookings AS
SELECT *
FROM bookings
WHERE (_topic, _partition, _offset) NOT IN
(
    SELECT source_topic, toUInt32(source_partition), toUInt64(source_offset)
    FROM dlq
    WHERE consumer = 'ledger'
);

CREATE VIEW IF NOT EXISTS accepted_enrollments AS
SELECT *
FROM enrollments
WHERE (_topic, _partition, _offset) NOT IN
(
    SELECT source_topic, toUInt32(source_partition), toUInt64(source_offset)
    FROM dlq
    WHERE consumer = 'ledger'
);

-- purchases: as in 0100 (see there), over accepted_bookings.
DROP TABLE IF EXISTS purchases;

CREATE VIEW IF NOT EXISTS purchases AS
SELECT
    booking_id,
    client_id,
    provider_business_id,
    completed_at,
    toStartOfMonth(completed_at) AS month,
    currency,
    amount,
    refunded,
    amount - refunded AS net_value,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days,
    provider_business_id = owner_business_id AS direct,
    commission
FROM
(
    SELECT *
    FROM
    (
        SELECT
            booking_id,
            argMinIf(client_id, (occurred_at, occurred_at_ns), status = 'completed') AS client_id,
            argMinIf(business_id, (occurred_at, occurred_at_ns), status = 'completed') AS provider_business_id,
            minIf(occurred_at, status = 'completed') AS completed_at,
            argMinIf(currency, (occurred_at, occurred_at_ns), status = 'completed') AS currency,
            argMinIf(amount, (occurred_at, occurred_at_ns), status = 'completed') AS amount,
            sumIf(refund_amount, status = 'refunded') AS refunded
        FROM
        (
            SELECT
                event_id,
                any(booking_id) AS booking_id,
                any(client_id) AS client_id,
                any(business_id) AS business_id,
                any(status) AS status,
                any(amount) AS amount,
                any(currency) AS currency,
                any(refund_amount) AS refund_amount,
                any(occurred_at) AS occurred_at,
                any(occurred_at_ns) AS occurred_at_ns
            FROM accepted_bookings
            GROUP BY event_id
        )
        GROUP BY booking_id
        HAVING countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0
    )
    ALL INNER JOIN
    (
        SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
        FROM client_owners
    ) USING (client_id)
)
ANY LEFT JOIN
(
    SELECT booking_id, owner_business_id, sum(amount) AS commission
    FROM
    (
        SELECT
            commission_id,
            any(booking_id) AS booking_id,
            any(owner_business_id) AS owner_business_id,
            any(amount) AS amount
        FROM commissions
        GROUP BY commission_id
    )
    GROUP BY booking_id, owner_business_id
) USING (booking_id, owner_business_id);
