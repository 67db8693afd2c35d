-- name: realized_clv
-- title: Realized CLV curves (direct, indirect, commissions)
-- description: For every cohort c, currency and month offset k >= 0 up to the month of
-- description: {until}: the cumulative net value of the cohort clients' purchases up to and
-- description: including month c+k, split into direct value (bought from the client's owner)
-- description: and indirect value (bought elsewhere), the commissions the owner kept from the
-- description: indirect part (by the purchase's month), and the owner's value (direct plus
-- description: commissions); totals and per cohort client (truncated to 4 decimals).
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month of the curves
-- columns: dim, cohort, currency, k, cohort_clients, direct_value, indirect_value, commissions, owner_value, direct_per_client, indirect_per_client, commissions_per_client, owner_value_per_client
SELECT
    dim,
    cohort,
    currency,
    k,
    cohort_clients,
    direct_value,
    indirect_value,
    commissions,
    direct_value + commissions AS owner_value,
    direct_value / cohort_clients AS direct_per_client,
    indirect_value / cohort_clients AS indirect_per_client,
    commissions / cohort_clients AS commissions_per_client,
    (direct_value + commissions) / cohort_clients AS owner_value_per_client
FROM
(
    -- Every month's value counts in its own month offset and every later one: a running
    -- sum without window functions, over the month's totals (not its purchases). Each
    -- month's totals are spread over every offset 0 .. {until}'s and summed where the
    -- month is at or before the offset, so one read of purchase_months gives the dense
    -- triangle (an offset before the first purchase sums nothing: 0).
    SELECT
        dim,
        cohort,
        currency,
        arrayJoin(range(toUInt64(last_k + 1))) AS k,
        sumIf(month_direct, pk <= k) AS direct_value,
        sumIf(month_indirect, pk <= k) AS indirect_value,
        sumIf(month_commissions, pk <= k) AS commissions
    FROM
    (
        SELECT
            {{clientDim "owner_business_id" "cohort"}} AS dim,
            cohort,
            currency,
            toUInt64(dateDiff('month', cohort, month)) AS pk,
            toUInt64(dateDiff('month', cohort, toStartOfMonth({until:Date}))) AS last_k,
            sumIf(net_value, direct) AS month_direct,
            sumIf(net_value, NOT direct) AS month_indirect,
            sum(commission) AS month_commissions
        FROM purchase_cells_unmerged
        WHERE {{clientScope "owner_business_id"}}
          AND month >= cohort
          AND month <= toStartOfMonth({until:Date})
        GROUP BY dim, cohort, currency, pk, last_k
        -- the group has a purchase (every cell's purchases >= 0: 0134)
        HAVING sum(purchases) > 0
    )
    GROUP BY dim, cohort, currency, k
) AS lhs
ANY LEFT JOIN
(
    {{part "cohort_clients"}}
) AS rhs USING (dim, cohort)
ORDER BY dim, cohort, currency, k
