-- name: retention_value
-- title: Cohort retention triangle (net value)
-- description: For every cohort c, currency and month offset k >= 0 up to the month of
-- description: {until}: the net value (amount minus refunds) of the cohort clients' purchases
-- description: in month c+k, per cohort client, and as a share of the cohort's month-0 value
-- description: (NULL when that is zero). Money per currency, no conversion; per-client values
-- description: are truncated to 4 decimals.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month of the triangle
-- columns: dim, cohort, currency, k, cohort_clients, net_value, net_value_per_client, value_retention
SELECT
    dim,
    cohort,
    currency,
    k,
    cohort_clients,
    net_value,
    net_value / cohort_clients AS net_value_per_client,
    if(month0_value = 0, NULL, toFloat64(net_value) / toFloat64(month0_value)) AS value_retention
FROM
(
    -- The dense triangle from one read of purchase_months: per (dim, cohort, currency) the
    -- offsets with purchases and their net values (as text: groupArray over Decimal crashes
    -- 18.16) and the month-0 value, unrolled over every offset k up to {until}'s month; an
    -- offset without purchases has net value 0.
    SELECT
        dim,
        cohort,
        currency,
        k,
        toDecimal128(if(has(ks, k), value_texts[indexOf(ks, k)], '0'), 4) AS net_value,
        month0_value
    FROM
    (
        SELECT
            dim,
            cohort,
            currency,
            groupArray(offset) AS ks,
            groupArray(toString(value)) AS value_texts,
            sumIf(value, offset = 0) AS month0_value
        FROM
        (
            SELECT
                {{clientDim "owner_business_id" "cohort"}} AS dim,
                cohort,
                currency,
                toUInt64(dateDiff('month', cohort, month)) AS offset,
                sum(net_value) AS value
            FROM purchase_cells_unmerged
            WHERE {{clientScope "owner_business_id"}}
              AND month >= cohort
              AND month <= toStartOfMonth({until:Date})
            GROUP BY dim, cohort, currency, offset
            -- the group has a purchase (every cell's purchases >= 0: 0134)
            HAVING sum(purchases) > 0
        )
        GROUP BY dim, cohort, currency
    )
    ARRAY JOIN range(toUInt64(dateDiff('month', cohort, toStartOfMonth({until:Date})) + 1)) AS k
) AS lhs
ANY LEFT JOIN
(
    {{part "cohort_clients"}}
) AS rhs USING (dim, cohort)
ORDER BY dim, cohort, currency, k
