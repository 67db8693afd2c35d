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
    {{part "order_columns"}}
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
            {{part "month_orders"}}
        ) AS pbl
        ANY LEFT JOIN
        (
            {{part "acquired_to_date"}}
        ) AS a USING (dim, month)
    ) AS pbla
    ANY LEFT JOIN
    (
        -- Acquisition cost to date: the cohort CAC of every client acquired so far, summed. All
        -- clients a business established in a month share its CAC of that month, so the sum is
        -- the spend of the (business, month) pairs with at least one such client.
        {{part "amounts_to_date" "table" "acquisition_spend_of_new_clients" "as" "acquisition_cost" "owner" "business_id" "cohort" "spend_month" "month" "spend_month"}}
    ) AS ac USING (dim, month, currency)
) AS pblac
ANY LEFT JOIN
(
    -- Retention cost to date, allocated to clients (see the description above).
    {{part "amounts_to_date" "table" "retention_cost_allocations" "as" "retention_cost" "owner" "owner_business_id" "cohort" "cohort" "month" "cost_month"}}
) AS rc USING (dim, month, currency)
ORDER BY dim, month, currency
