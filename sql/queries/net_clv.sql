-- name: net_clv
-- title: Gross and net CLV per month: what a client is worth, less what it cost to win and keep
-- description: For every calendar month up to the month of {until} in which the scope's
-- description: clients bought, per currency: purchases, net value, AOV = net value / purchases,
-- description: frequency = purchases / buying clients in the month, lifespan so far = average
-- description: over the clients who bought by the month's end of the months between their first
-- description: and last purchase, plus one (all as in order_metrics), and gross CLV = AOV x
-- description: frequency x lifespan. acquired_clients = the scope's clients whose ownership was
-- description: established by the month's end. Acquisition cost to date = the sum over those
-- description: clients of their cohort's CAC (the owner's acquisition spend in the client's
-- description: cohort month / the clients it established that month), i.e. the spend of every
-- description: (business, month) up to this one in which the business established at least
-- description: one client (spend in a month without a new client is no client's cost).
-- description: Retention cost to date = every retention-costs event (once per event_id) up to
-- description: the month's end, allocated to clients: an event naming a client with a referral
-- description: owner is that client's cost, whichever business spent it; an event naming no
-- description: client is spread evenly (amount / n, truncated to 4 decimals) over the n clients
-- description: owned by the spending business who were active at some instant of the event's
-- description: month (a purchase with month start - window <= purchase time <= month end);
-- description: an event naming a client without an owner, or of a business without such
-- description: clients, is allocated to no one. A client's costs count under its current owner,
-- description: sector and cohort. Per client = cost / acquired_clients (truncated to 4
-- description: decimals); net CLV = gross CLV - (acquisition cost + retention cost) /
-- description: acquired_clients (Float64 estimates built from the exact Decimal totals).
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only this owner business and its clients (empty: all)
-- param: sector String = ; only businesses of this sector and their clients (empty: all)
-- param: until Date; any day of the last calendar month
-- columns: dim, month, currency, purchases, net_value, aov, buyers, all_purchases, frequency, lifespan_months, gross_clv, acquired_clients, acquisition_cost, acquisition_cost_per_client, retention_cost, retention_cost_per_client, net_clv
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
    toFloat64(net_value) / purchases * frequency * lifespan_months AS gross_clv,
    acquired_clients,
    acquisition_cost,
    acquisition_cost / greatest(acquired_clients, 1) AS acquisition_cost_per_client,
    retention_cost,
    retention_cost / greatest(acquired_clients, 1) AS retention_cost_per_client,
    gross_clv - if(acquired_clients = 0, 0,
        (toFloat64(acquisition_cost) + toFloat64(retention_cost)) / acquired_clients) AS net_clv
FROM
(
    SELECT *
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
            ) AS pb
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
            ) AS l USING (dim, month)
        ) AS pbl
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
        ) AS a USING (dim, month)
    ) AS pbla
    ANY LEFT JOIN
    (
        -- Acquisition cost to date: the cohort CAC of every client acquired so far, summed. All
        -- clients a business established in a month share its CAC of that month, so the sum is
        -- the spend of the (business, month) pairs with at least one such client.
        SELECT dim, month, currency, sum(amount) AS acquisition_cost
        FROM
        (
            SELECT
                multiIf({by:String} = 'owner', business_id, {by:String} = 'sector', sector,
                        {by:String} = 'cohort', toString(spend_month), 'platform') AS dim,
                currency,
                amount,
                arrayJoin(arrayMap(i -> addMonths(spend_month, i),
                    range(toUInt64(dateDiff('month', spend_month, toStartOfMonth({until:Date})) + 1)))) AS month
            FROM acquisition_spend_of_new_clients
            WHERE ({owner:String} = '' OR business_id = {owner:String})
              AND ({sector:String} = '' OR sector = {sector:String})
              AND spend_month <= toStartOfMonth({until:Date})
        )
        GROUP BY dim, month, currency
    ) AS ac USING (dim, month, currency)
) AS pblac
ANY LEFT JOIN
(
    -- Retention cost to date, allocated to clients (see the description above).
    SELECT dim, month, currency, sum(amount) AS retention_cost
    FROM
    (
        SELECT
            multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                    {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
            currency,
            amount,
            arrayJoin(arrayMap(i -> addMonths(cost_month, i),
                range(toUInt64(dateDiff('month', cost_month, toStartOfMonth({until:Date})) + 1)))) AS month
        FROM retention_cost_allocations
        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
          AND ({sector:String} = '' OR sector = {sector:String})
          AND cost_month <= toStartOfMonth({until:Date})
    )
    GROUP BY dim, month, currency
) AS rc USING (dim, month, currency)
ORDER BY dim, month, currency
