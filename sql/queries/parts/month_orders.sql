{{/* Per dim, month and currency of a client metric up to {until}'s month: purchases, net value
and AOV, the month's purchases in all currencies (all_purchases), the clients who bought in
it (buyers) and the average lifespan so far of those who bought by its end
(lifespan_months). Used by order_metrics and net_clv. */ -}}
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
                {{clientDim "owner_business_id" "cohort"}} AS dim,
                month,
                currency AS cur,
                sum(purchases) AS n,
                sum(net_value) AS value
            FROM purchase_cells_unmerged
            WHERE {{clientScope "owner_business_id"}}
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
                {{clientDim "owner_business_id" "cohort"}} AS dim,
                month,
                count() AS month_buyers,
                sum(added) AS month_added,
                sum(first) AS month_new
            FROM client_lifespan_months
            WHERE {{clientScope "owner_business_id"}}
              AND month <= toStartOfMonth({until:Date})
            GROUP BY dim, month
        )
        GROUP BY dim
    )
    ARRAY JOIN cells AS cell, lifespan_sums AS lifespans, client_counts AS clients
) AS rhs USING (dim, month)
