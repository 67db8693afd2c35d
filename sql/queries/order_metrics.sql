-- name: order_metrics
-- title: AOV, purchase frequency, lifespan and CLV per month
-- description: For every calendar month up to the month of {until} in which the scope's
-- description: clients bought, per currency: purchases and their net value, average order
-- description: value AOV = net value / purchases (truncated to 4 decimals); purchase frequency
-- description: = purchases / buying clients in the month (all currencies: a count); lifespan =
-- description: average over the clients who bought by the month's end of the months between
-- description: their first and last purchase so far, plus one; CAC to date = acquisition spend
-- description: of the scope's businesses up to the month's end / clients whose ownership they
-- description: established by then (0 when unknown); CLV = AOV x frequency x lifespan - CAC
-- description: (Float64: an estimate built from the exact Decimal totals beside it).
-- description: For by=cohort, a cohort's spend is the platform's spend in the cohort month.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only this owner business and its clients (empty: all)
-- param: sector String = ; only businesses of this sector and their clients (empty: all)
-- param: until Date; any day of the last calendar month
-- columns: dim, month, currency, purchases, net_value, aov, buyers, all_purchases, frequency, lifespan_months, acquisition_spend, acquired_clients, cac, clv
SELECT
    dim,
    month,
    currency,
    purchases,
    net_value,
    aov,
    buyers,
    all_purchases,
    all_purchases / buyers AS frequency,
    lifespan_months,
    acquisition_spend,
    acquired_clients,
    cac,
    toFloat64(net_value) / purchases * frequency * lifespan_months
        - if(acquired_clients = 0, 0, toFloat64(acquisition_spend) / acquired_clients) AS clv
FROM
(
    SELECT
        *,
        if(acquired_clients = 0, acquisition_spend * 0, acquisition_spend / greatest(acquired_clients, 1)) AS cac
    FROM
    (
        SELECT *
        FROM
        (
            SELECT *
            FROM
            (
                -- Per month and currency purchases and net value, and per month (all currencies)
                -- the purchases, from one read of the cells' sums (purchase_cells_unmerged: no
                -- FINAL, 0134): the per-currency sums ride along as arrays (net value as text:
                -- groupArray over Decimal crashes 18.16) and are unrolled again. The buying
                -- clients come with the lifespans, from client_months.
                SELECT
                    dim,
                    month,
                    currency,
                    purchases,
                    net_value,
                    net_value / purchases AS aov,
                    all_purchases
                FROM
                (
                    SELECT
                        dim,
                        month,
                        sum(n) AS all_purchases,
                        groupArray(cur) AS currencies,
                        groupArray(n) AS ns,
                        groupArray(toString(value)) AS value_texts
                    FROM
                    (
                        SELECT
                            multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                                    {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
                            month,
                            currency AS cur,
                            sum(purchases) AS n,
                            sum(net_value) AS value
                        FROM purchase_cells_unmerged
                        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
                          AND ({sector:String} = '' OR sector = {sector:String})
                          AND month <= toStartOfMonth({until:Date})
                        GROUP BY dim, month, cur
                        HAVING n > 0
                    )
                    GROUP BY dim, month
                )
                ARRAY JOIN currencies AS currency, ns AS purchases, arrayMap(v -> toDecimal128(v, 4), value_texts) AS net_value
            ) AS lhs
            ANY LEFT JOIN
            (
                -- Lifespan so far of every client who bought by the end of each month with a
                -- purchase, and the clients who bought in the month: running sums over the
                -- months of client_lifespan_months (0140: one row per client and month), per group.
                SELECT
                    dim,
                    tupleElement(cell, 1) AS month,
                    tupleElement(cell, 2) AS buyers,
                    toUInt64(lifespans) / toUInt64(clients) AS lifespan_months
                FROM
                (
                    SELECT
                        dim,
                        arraySort(groupArray((month, month_buyers, month_added, month_new))) AS cells,
                        arrayCumSum(arrayMap(c -> tupleElement(c, 3), cells)) AS lifespan_sums,
                        arrayCumSum(arrayMap(c -> tupleElement(c, 4), cells)) AS client_counts
                    FROM
                    (
                        SELECT
                            multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                                    {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
                            month,
                            count() AS month_buyers,
                            sum(added) AS month_added,
                            sum(first) AS month_new
                        FROM client_lifespan_months
                        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
                          AND ({sector:String} = '' OR sector = {sector:String})
                          AND month <= toStartOfMonth({until:Date})
                        GROUP BY dim, month
                    )
                    GROUP BY dim
                )
                ARRAY JOIN cells AS cell, lifespan_sums AS lifespans, client_counts AS clients
            ) AS rhs USING (dim, month)
        ) AS lhs
        ANY LEFT JOIN
        (
            -- Acquisition spend to date (each spend counts in its month and every later one).
            SELECT dim, month, currency, sum(amount) AS acquisition_spend
            FROM
            (
                SELECT
                    multiIf({by:String} = 'owner', business_id, {by:String} = 'sector', sector,
                            {by:String} = 'cohort', toString(spend_month), 'platform') AS dim,
                    currency,
                    amount,
                    arrayJoin(arrayMap(i -> addMonths(spend_month, i),
                        range(toUInt64(dateDiff('month', spend_month, toStartOfMonth({until:Date})) + 1)))) AS month
                FROM acquisition_spend
                WHERE ({owner:String} = '' OR business_id = {owner:String})
                  AND ({sector:String} = '' OR sector = {sector:String})
                  AND spend_month <= toStartOfMonth({until:Date})
            )
            GROUP BY dim, month, currency
        ) AS rhs USING (dim, month, currency)
    ) AS lhs
    ANY LEFT JOIN
    (
        -- Clients acquired to date.
        -- (counted per cohort month first: the expansion into months then repeats a count
        -- per group and cohort, not a row per client)
        SELECT dim, month, sum(cohort_clients) AS acquired_clients
        FROM
        (
            SELECT
                multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                        {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
                cohort,
                count() AS cohort_clients
            FROM client_owners
            WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
              AND ({sector:String} = '' OR sector = {sector:String})
              AND cohort <= toStartOfMonth({until:Date})
            GROUP BY dim, cohort
        )
        ARRAY JOIN arrayMap(i -> addMonths(cohort, i),
            range(toUInt64(dateDiff('month', cohort, toStartOfMonth({until:Date})) + 1))) AS month
        GROUP BY dim, month
    ) AS rhs USING (dim, month)
)
ORDER BY dim, month, currency
