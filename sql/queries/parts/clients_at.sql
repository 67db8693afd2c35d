{{/* The FROM clause of a lifecycle panel: the clients owned at {at} within the owner and sector
filters, with their activity window in seconds (window_seconds), and for those with a
purchase by {at} the purchases, the seconds of the first and the last one and of the one
before the last (first_at, last_at, previous_at; a client without has purchases 0). Used by
lifecycle_counts and lifecycle_stage. */ -}}
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
      AND {{clientScope "owner_business_id"}}
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
