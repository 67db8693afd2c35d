-- 0100_facts: deduplicated facts for the BI query pack (sql/queries), as plain views.
--
-- Plain (not materialized) views: they are evaluated at query time over the raw tables of
-- 0001_raw, so a purchase cancelled or refunded later, or an ownership correction that moves
-- a client to another owner and cohort, is reflected at once in every metric. Nothing here
-- stores derived rows, so nothing here can double count or go stale. See
-- sql/queries/README.md for the reasoning per metric.
--
-- Deduplication rules:
--   * input events count once per event_id (a re-delivered event has a new offset);
--   * commissions count once per commission_id;
--   * referral_owners is a compacted topic keyed by client_id: the current owner is the
--     client's record with the largest (_partition, _offset), i.e. the last one written. Not
--     argMax by owned_since: a late enrollment moves owned_since EARLIER (R5), so the latest
--     record is not the one with the latest owned_since;
--   * a business's sector and name are those of its latest businesses event by
--     (occurred_at, occurred_at_ns, event_id).
--
-- Time resolution: the activity window and lifecycle stages compare whole seconds
-- (DateTime('UTC')); the *_ns part only orders events within a second.

-- sector_settings: the activity window per sector (SPEC §3; 60 days when a sector has no
-- row). Latest updated_at wins. Write with e.g.
--   INSERT INTO sector_settings (sector, activity_window_days) VALUES ('fitness', 45)
CREATE TABLE IF NOT EXISTS sector_settings
(
    sector               String,
    activity_window_days UInt16,
    updated_at           DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY sector;

-- business_profiles: one row per business, its current name and sector and the activity
-- window of that sector.
CREATE VIEW IF NOT EXISTS business_profiles AS
SELECT
    business_id,
    name,
    sector,
    if(window_days = 0, 60, window_days) AS activity_window_days
FROM
(
    SELECT
        business_id,
        argMax(name, (occurred_at, occurred_at_ns, event_id)) AS name,
        argMax(sector, (occurred_at, occurred_at_ns, event_id)) AS sector
    FROM businesses
    GROUP BY business_id
) AS lhs
ANY LEFT JOIN
(
    SELECT sector, argMax(activity_window_days, updated_at) AS window_days
    FROM sector_settings
    GROUP BY sector
) AS rhs USING (sector);

-- client_owners: one row per client with a referral owner: the owner, when and how ownership
-- was established, the cohort (calendar month of owned_since, UTC), the owner's sector and
-- its activity window (60 days when the owner or its sector is unknown).
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
        argMax(owner_business_id, written) AS owner_business_id,
        argMax(owned_since, written) AS owned_since,
        argMax(toString(source), written) AS source,
        argMax(event_id, written) AS event_id
    FROM
    (
        -- (_partition, _offset) as one UInt64 in the same order (an offset stays below 2^40):
        -- argMax by a tuple cost 2.5-3x as much on 18.16.
        SELECT client_id, owner_business_id, owned_since, source, event_id,
            bitShiftLeft(toUInt64(_partition), 40) + _offset AS written
        FROM referral_owners
    ) AS owner_records
    GROUP BY client_id
) AS lhs
ANY LEFT JOIN
(
    SELECT business_id AS owner_business_id, sector, activity_window_days
    FROM business_profiles
) AS rhs USING (owner_business_id);

-- purchases: one row per purchase (SPEC §3: a booking that reached completed and was not
-- cancelled afterwards) of a client with a known owner. Its time is the completed event's
-- occurred_at, its net value the completed amount minus the booking's refunds. direct = 1
-- when the provider is the client's owner. commission is what the client's CURRENT owner
-- keeps from it on the ledger (accruals plus reversals, deduplicated by commission_id); a
-- previous owner's entries for it net to zero after an ownership correction and are ignored.
-- Purchases of clients without a referral_owners row yet (ledger lag) are left out.
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
            FROM bookings
            GROUP BY event_id
        )
        GROUP BY booking_id
        HAVING countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0
    ) AS lhs
    ALL INNER JOIN
    (
        SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
        FROM client_owners
    ) AS rhs USING (client_id)
) AS lhs
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
) AS rhs USING (booking_id, owner_business_id);
