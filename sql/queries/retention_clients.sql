-- name: retention_clients
-- title: Cohort retention triangle (clients)
-- description: For every cohort c (calendar month in which clients' ownership was established)
-- description: and month offset k >= 0 up to the month of {until}: the cohort's clients, those
-- description: with at least one purchase in month c+k, and their share (CRR). Dense: every
-- description: cell of the triangle has a row, zero when nobody bought.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month of the triangle
-- columns: dim, cohort, k, cohort_clients, active_clients, retention
SELECT
    dim,
    cohort,
    k,
    cohort_clients,
    active_clients,
    active_clients / cohort_clients AS retention
FROM
(
    SELECT dim, cohort, cohort_clients, k
    FROM
    (
        {{part "cohort_clients"}}
    )
    ARRAY JOIN range(toUInt64(dateDiff('month', cohort, toStartOfMonth({until:Date})) + 1)) AS k
) AS lhs
ANY LEFT JOIN
(
    SELECT
        {{clientDim "owner_business_id" "cohort"}} AS dim,
        cohort,
        toUInt64(dateDiff('month', cohort, month)) AS k,
        -- client_month_purchases has one row per client and month with a purchase (0135:
        -- a FINAL read of a rollup keyed by both, joined to one owner row per client), so
        -- counting rows counts clients
        count() AS active_clients
    FROM client_month_purchases
    WHERE {{clientScope "owner_business_id"}}
      AND month >= cohort
      AND month <= toStartOfMonth({until:Date})
    GROUP BY dim, cohort, k
) AS rhs USING (dim, cohort, k)
ORDER BY dim, cohort, k
