-- name: lifecycle_stage
-- title: Lifecycle stage of every client at a date
-- description: Every client whose ownership was established by {at} (UTC), with the purchases
-- description: made by then and the stage at {at}: potential (no purchase yet; not a customer),
-- description: former (no purchase in the activity window before {at}), one_time (active, exactly
-- description: one purchase ever), returning (active, and the latest purchase came more than the
-- description: window after the one before it), regular (any other active client). The window
-- description: is the activity window of the sector of the client's owner (default 60 days).
-- description: first_purchase_at and last_purchase_at are NULL for a client without a purchase.
-- param: at DateTime; the instant, UTC ('2025-06-30 23:59:59')
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: client_id, owner_business_id, sector, cohort, purchases, first_purchase_at, last_purchase_at, stage
SELECT
    client_id,
    owner_business_id,
    sector,
    cohort,
    purchases,
    if(purchases = 0, NULL, first_at) AS first_purchase_at,
    if(purchases = 0, NULL, last_at) AS last_purchase_at,
    multiIf(
        purchases = 0, 'potential',
        last_at < {at:DateTime} - window_seconds, 'former',
        purchases = 1, 'one_time',
        last_at - previous_at > window_seconds, 'returning',
        'regular') AS stage
FROM
(
    SELECT
        client_id,
        owner_business_id,
        sector,
        cohort,
        toUInt32(activity_window_days) * 86400 AS window_seconds
    FROM client_owners
    WHERE owned_since <= {at:DateTime}
      AND ({owner:String} = '' OR owner_business_id = {owner:String})
      AND ({sector:String} = '' OR sector = {sector:String})
) AS lhs
ANY LEFT JOIN
(
    -- Per client its purchases up to {at}, the last of them and the one before it, from
    -- client_purchase_times (0137: the merged seconds in ascending order and the purchases of
    -- each): the seconds up to {at} are a prefix of k of them; a second with two purchases is
    -- its own previous purchase. A client with no purchase by then has no row, so the join
    -- leaves its purchases 0.
    SELECT
        client_id,
        toUInt64(arraySum(arraySlice(counts, 1, k))) AS purchases,
        times[1] AS first_at,
        times[k] AS last_at,
        if(k = 1 OR counts[k] >= 2, times[k], times[k - 1]) AS previous_at
    FROM
    (
        SELECT client_id, times, counts, arrayCount(t -> t <= {at:DateTime}, times) AS k
        FROM client_purchase_times
    )
    WHERE k > 0
) AS rhs USING (client_id)
ORDER BY client_id
