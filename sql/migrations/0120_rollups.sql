-- 0120_rollups: the facts of 0100/0102 read from rollups maintained as rows arrive, instead
-- of re-deduplicating every raw row at query time (docs/DESIGN.md, "Rollups", has the
-- exactness argument; sql/queries/README.md the per-metric reasoning).
--
-- Three AggregatingMergeTree tables, each fed by a materialized view on its raw table and
-- keyed by what never changes for a row (the booking, the client, the booking and owner of a
-- commission). Every column is the state of an aggregate that is IDEMPOTENT: min/max/argMin/
-- argMax over a set, or the set itself (groupUniqArray of (id, amount)) where a sum over
-- distinct ids is needed. A re-delivered event (same event_id, same content, new offset), a
-- raw row inserted twice, the backfill below overlapping rows the views already saw, or
-- `taskole migrate --rebuild-rollups` re-inserting everything: each merges to the same state.
-- No state depends on the order rows arrive in, so late data merges like early data.
--
-- What can change after the fact is not folded in: a refund or cancellation changes only its
-- booking's state (the purchase is derived when read), an ownership correction only its
-- client's (owners are joined when read), a ledger refusal (a dlq row that may arrive after
-- the refused record) is applied when read: bookings with a refused record are recomputed
-- from the raw rows (few), the others come from the rollup.
--
-- Raw tables stay the source of truth. The INSERT … SELECTs at the end are the backfill and
-- the very statements `taskole migrate --rebuild-rollups` runs after truncating the tables
-- (sql/rollups/rebuild.sql must stay equal to them; consumers/migrate tests that).

-- booking_rollup: per booking, what the purchases view derives from its events.
CREATE TABLE IF NOT EXISTS booking_rollup
(
    booking_id      String,
    client_state    AggregateFunction(argMinIf, String, Tuple(DateTime('UTC'), UInt32), UInt8),
    provider_state  AggregateFunction(argMinIf, String, Tuple(DateTime('UTC'), UInt32), UInt8),
    completed_state AggregateFunction(minIf, DateTime('UTC'), UInt8),
    currency_state  AggregateFunction(argMinIf, String, Tuple(DateTime('UTC'), UInt32), UInt8),
    amount_state    AggregateFunction(argMinIf, Decimal(18, 4), Tuple(DateTime('UTC'), UInt32), UInt8),
    refunds_state   AggregateFunction(groupUniqArrayIf, Tuple(String, Decimal(18, 4)), UInt8),
    completed_flag  AggregateFunction(max, UInt8),
    cancelled_flag  AggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY booking_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS booking_rollup_mv TO booking_rollup AS
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

-- owner_rollup: per client, its referral_owners record with the largest (_partition, _offset).
CREATE TABLE IF NOT EXISTS owner_rollup
(
    client_id         String,
    owner_state       AggregateFunction(argMax, String, Tuple(UInt32, UInt64)),
    owned_since_state AggregateFunction(argMax, DateTime('UTC'), Tuple(UInt32, UInt64)),
    source_state      AggregateFunction(argMax, String, Tuple(UInt32, UInt64)),
    event_id_state    AggregateFunction(argMax, String, Tuple(UInt32, UInt64))
)
ENGINE = AggregatingMergeTree
ORDER BY client_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS owner_rollup_mv TO owner_rollup AS
SELECT
    client_id,
    argMaxState(owner_business_id, (_partition, _offset)) AS owner_state,
    argMaxState(owned_since, (_partition, _offset)) AS owned_since_state,
    argMaxState(toString(source), (_partition, _offset)) AS source_state,
    argMaxState(event_id, (_partition, _offset)) AS event_id_state
FROM referral_owners
GROUP BY client_id;

-- commission_rollup: per booking and owner, the set of (commission_id, amount) entries.
CREATE TABLE IF NOT EXISTS commission_rollup
(
    booking_id        String,
    owner_business_id String,
    entries_state     AggregateFunction(groupUniqArray, Tuple(String, Decimal(18, 4)))
)
ENGINE = AggregatingMergeTree
ORDER BY (booking_id, owner_business_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS commission_rollup_mv TO commission_rollup AS
SELECT
    booking_id,
    owner_business_id,
    groupUniqArrayState((commission_id, amount)) AS entries_state
FROM commissions
GROUP BY booking_id, owner_business_id;

-- booking_events: the booking rows again, sorted by booking and in small granules, so the
-- few bookings with a refused record are read by key instead of by scanning every booking.
-- A row stored twice here is harmless: its readers deduplicate by event_id, as 0100 does.
CREATE TABLE IF NOT EXISTS booking_events
(
    booking_id     String,
    event_id       String,
    client_id      String,
    business_id    String,
    status         Enum8('created' = 1, 'confirmed' = 2, 'completed' = 3, 'cancelled' = 4, 'refunded' = 5),
    amount         Decimal(18, 4),
    currency       String,
    refund_amount  Decimal(18, 4),
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64
)
ENGINE = MergeTree
ORDER BY booking_id
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS booking_events_mv TO booking_events AS
SELECT booking_id, event_id, client_id, business_id, status, amount, currency, refund_amount,
       occurred_at, occurred_at_ns, _topic, _partition, _offset
FROM bookings;

-- booking_positions: which booking each bookings record (topic:partition:offset) belongs to,
-- sorted by that one String: ClickHouse 18.16 uses a sorting key for `column IN (subquery)`
-- but not for a tuple of columns, so the raw table's own key cannot answer refused_bookings.
CREATE TABLE IF NOT EXISTS booking_positions
(
    position   String,
    booking_id String
)
ENGINE = MergeTree
ORDER BY position
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS booking_positions_mv TO booking_positions AS
SELECT concat(_topic, ':', toString(_partition), ':', toString(_offset)) AS position, booking_id
FROM bookings;

-- refused_bookings: the bookings with at least one record the ledger refused (a dlq row of
-- consumer 'ledger' naming its position, as accepted_bookings in 0102), looked up by key.
CREATE VIEW IF NOT EXISTS refused_bookings AS
SELECT DISTINCT booking_id
FROM booking_positions
WHERE position IN
(
    SELECT concat(source_topic, ':', toString(source_partition), ':', toString(source_offset))
    FROM dlq
    WHERE consumer = 'ledger'
);

-- booking_facts: per booking with a completed and no cancelled event, as 0102's purchases
-- derives it: from the rollup for bookings without a refused record, from the accepted raw
-- rows (booking_events without the refused positions, deduplicated by event_id) for the
-- others.
CREATE VIEW IF NOT EXISTS booking_facts AS
SELECT booking_id, client_id, provider_business_id, completed_at, currency, amount, refunded
FROM
(
    SELECT
        booking_id,
        argMinIfMerge(client_state) AS client_id,
        argMinIfMerge(provider_state) AS provider_business_id,
        minIfMerge(completed_state) AS completed_at,
        argMinIfMerge(currency_state) AS currency,
        argMinIfMerge(amount_state) AS amount,
        arrayReduce('sum', arrayMap(r -> r.2, groupUniqArrayIfMerge(refunds_state))) AS refunded
    FROM booking_rollup
    WHERE booking_id NOT IN (SELECT booking_id FROM refused_bookings)
    GROUP BY booking_id
    HAVING maxMerge(completed_flag) = 1 AND maxMerge(cancelled_flag) = 0
    UNION ALL
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
        FROM
        (
            SELECT *
            FROM booking_events
            WHERE booking_id IN (SELECT booking_id FROM refused_bookings)
              AND (_topic, _partition, _offset) NOT IN
              (
                  SELECT source_topic, toUInt32(source_partition), toUInt64(source_offset)
                  FROM dlq
                  WHERE consumer = 'ledger'
              )
        )
        GROUP BY event_id
    )
    GROUP BY booking_id
    HAVING countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0
);

-- client_owners: as in 0100 (see there), the owner read from owner_rollup.
DROP TABLE IF EXISTS client_owners;

CREATE VIEW IF NOT EXISTS client_owners AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    toStartOfMonth(owned_since) AS cohort,
    source,
    event_id,
    sector,
    if(activity_window_days = 0, 60, activity_window_days) AS activity_window_days
FROM
(
    SELECT
        client_id,
        argMaxMerge(owner_state) AS owner_business_id,
        argMaxMerge(owned_since_state) AS owned_since,
        argMaxMerge(source_state) AS source,
        argMaxMerge(event_id_state) AS event_id
    FROM owner_rollup
    GROUP BY client_id
) AS lhs
ANY LEFT JOIN
(
    SELECT business_id AS owner_business_id, sector, activity_window_days
    FROM business_profiles
) AS rhs USING (owner_business_id);

-- purchases: as in 0102 (see there), from booking_facts and commission_rollup.
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
        SELECT booking_id, client_id, provider_business_id, completed_at, currency, amount, refunded
        FROM booking_facts
    ) AS lhs
    ALL INNER JOIN
    (
        SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
        FROM client_owners
    ) AS rhs USING (client_id)
) AS lhs
ANY LEFT JOIN
(
    SELECT
        booking_id,
        owner_business_id,
        arrayReduce('sum', arrayMap(e -> e.2, groupUniqArrayMerge(entries_state))) AS commission
    FROM commission_rollup
    GROUP BY booking_id, owner_business_id
) AS rhs USING (booking_id, owner_business_id);

-- Backfill (idempotent, see above): the raw rows stored before the views existed.
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
