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
    {{part "order_columns"}}
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
            {{part "month_orders"}}
        ) AS lhs
        ANY LEFT JOIN
        (
            -- Acquisition spend to date (each spend counts in its month and every later one).
            {{part "amounts_to_date" "table" "acquisition_spend" "as" "acquisition_spend" "owner" "business_id" "cohort" "spend_month" "month" "spend_month"}}
        ) AS rhs USING (dim, month, currency)
    ) AS lhs
    ANY LEFT JOIN
    (
        {{part "acquired_to_date"}}
    ) AS rhs USING (dim, month)
)
ORDER BY dim, month, currency
