{{/* Per dim, month and currency of a client metric up to {until}'s month: the sum, named .as,
of the amounts of .table dated up to the month's end (each counts in its own month, .month,
and every later one). .owner and .cohort name the columns that clientDim groups by. Used by
order_metrics (acquisition spend) and net_clv (acquisition and retention cost). */ -}}
SELECT dim, month, currency, sum(month_amount) AS {{.as}}
FROM
(
    -- summed per dim, currency and month first: the expansion into later months then
    -- repeats one sum per group and month, not every row (retention_cost_allocations has
    -- one per allocated client); a Decimal sum is exact in any grouping
    SELECT
        {{clientDim .owner .cohort}} AS dim,
        currency,
        {{.month}} AS from_month,
        sum(amount) AS month_amount
    FROM {{.table}}
    WHERE {{clientScope .owner}}
      AND {{.month}} <= toStartOfMonth({until:Date})
    GROUP BY dim, currency, from_month
)
ARRAY JOIN arrayMap(i -> addMonths(from_month, i),
    range(toUInt64(dateDiff('month', from_month, toStartOfMonth({until:Date})) + 1))) AS month
GROUP BY dim, month, currency
