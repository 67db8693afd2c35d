-- name: predicted_net_clv
-- title: Predicted CLV net of what a client costs to win and to keep
-- description: Per group and currency, from the client_predictions of {as_of} (as in
-- description: predicted_clv): clients (client x currency accounts) and predicted CLV over the
-- description: next 365 days, less the acquisition and retention cost per client to date,
-- description: computed exactly as net_clv computes them for the month of {as_of}:
-- description: acquired_clients = the scope's clients whose ownership was established by the
-- description: end of that month; acquisition cost = the cohort CAC of every such client (the
-- description: spend of every (business, month) up to that month in which the business
-- description: established a client); retention cost = every retention-costs event up to that
-- description: month's end, allocated as in net_clv (a named client with an owner carries it
-- description: all; an event naming no client is spread evenly, amount / n truncated to 4
-- description: decimals, over the spender's clients active during its month). Per client =
-- description: cost / acquired_clients (truncated to 4 decimals); predicted_net_clv =
-- description: predicted_clv / clients - (acquisition cost + retention cost) / acquired_clients
-- description: (a Float64 estimate from the exact Decimal totals; no subtraction without
-- description: acquired clients).
-- param: as_of Date; the as-of day of the predictions (a date `taskole predict` ran for)
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only this owner business and its clients (empty: all)
-- param: sector String = ; only businesses of this sector and their clients (empty: all)
-- columns: dim, currency, clients, predicted_clv, predicted_per_client, acquired_clients, acquisition_cost, acquisition_cost_per_client, retention_cost, retention_cost_per_client, predicted_net_clv
SELECT
    dim,
    currency,
    clients,
    predicted_clv,
    predicted_clv / clients AS predicted_per_client,
    acquired_clients,
    acquisition_cost,
    acquisition_cost / greatest(acquired_clients, 1) AS acquisition_cost_per_client,
    retention_cost,
    retention_cost / greatest(acquired_clients, 1) AS retention_cost_per_client,
    toFloat64(predicted_clv) / clients - if(acquired_clients = 0, 0,
        (toFloat64(acquisition_cost) + toFloat64(retention_cost)) / acquired_clients) AS predicted_net_clv
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            SELECT
                {{clientDim "owner_business_id" "cohort"}} AS dim,
                currency,
                count() AS clients,
                sum(predicted_clv) AS predicted_clv
            FROM client_predictions
            WHERE as_of = {as_of:Date}
              AND {{clientScope "owner_business_id"}}
            GROUP BY dim, currency
        ) AS p
        ANY LEFT JOIN
        (
            -- Clients acquired by the end of the month of {as_of}.
            SELECT
                {{clientDim "owner_business_id" "cohort"}} AS dim,
                count() AS acquired_clients
            FROM client_owners
            WHERE {{clientScope "owner_business_id"}}
              AND cohort <= toStartOfMonth({as_of:Date})
            GROUP BY dim
        ) AS a USING (dim)
    ) AS pa
    ANY LEFT JOIN
    (
        -- Acquisition cost to date (net_clv's rule).
        {{part "amounts_as_of" "table" "acquisition_spend_of_new_clients" "as" "acquisition_cost" "owner" "business_id" "cohort" "spend_month" "month" "spend_month"}}
    ) AS ac USING (dim, currency)
) AS pac
ANY LEFT JOIN
(
    -- Retention cost to date, allocated to clients (net_clv's rule).
    {{part "amounts_as_of" "table" "retention_cost_allocations" "as" "retention_cost" "owner" "owner_business_id" "cohort" "cohort" "month" "cost_month"}}
) AS rc USING (dim, currency)
ORDER BY dim, currency
