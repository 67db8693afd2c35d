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
    SELECT
        client_id,
        length(times) AS purchases,
        times[1] AS last_purchase_at,
        if(length(times) >= 2, times[2], times[1]) AS previous_purchase_at
    FROM
    (
        SELECT client_id, arrayReverseSort(groupArray(completed_at)) AS times
        FROM
        (
            -- one row per purchase: a second with n purchases repeated n times
            SELECT client_id, completed_at
            FROM purchase_instants
            ARRAY JOIN range(toUInt64(purchases)) AS copy
            WHERE completed_at <= {at:DateTime}
        )
        GROUP BY client_id
    )
) AS rhs USING (client_id)
GROUP BY dim, stage
ORDER BY dim, stage
