-- name: lifecycle_counts
-- title: Clients per lifecycle stage at a date
-- description: The number of clients in each lifecycle stage at {at} (UTC), stages as in
-- description: lifecycle_stage: potential (not yet a customer), one_time, regular, returning,
-- description: former. Only stages with clients have a row.
-- param: at DateTime; the instant, UTC ('2025-06-30 23:59:59')
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: dim, stage, clients
SELECT
    multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
            {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
    multiIf(
        purchases = 0, 'potential',
        last_purchase_at < {at:DateTime} - window_seconds, 'former',
        purchases = 1, 'one_time',
        last_purchase_at - previous_purchase_at > window_seconds, 'returning',
        'regular') AS stage,
    count() AS clients
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
        times[k] AS last_purchase_at,
        if(k = 1 OR counts[k] >= 2, times[k], times[k - 1]) AS previous_purchase_at
    FROM
    (
        SELECT client_id, times, counts, arrayCount(t -> t <= {at:DateTime}, times) AS k
        FROM client_purchase_times
    )
    WHERE k > 0
) AS rhs USING (client_id)
GROUP BY dim, stage
ORDER BY dim, stage
