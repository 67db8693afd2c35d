{{/* Per dim, month and currency of a client metric up to {until}'s month: the sum, named .as,
of the amounts of .table dated up to the month's end (each counts in its own month, .month,
and every later one). .owner and .cohort name the columns that clientDim groups by. Used by
order_metrics (acquisition spend) and net_clv (acquisition and retention cost). */ -}}
SELECT dim, month, currency, sum(amount) AS {{.as}}
FROM
(
    SELECT
        {{clientDim .owner .cohort}} AS dim,
        currency,
        amount,
        arrayJoin(arrayMap(i -> addMonths({{.month}}, i),
            range(toUInt64(dateDiff('month', {{.month}}, toStartOfMonth({until:Date})) + 1)))) AS month
    FROM {{.table}}
    WHERE {{clientScope .owner}}
      AND {{.month}} <= toStartOfMonth({until:Date})
)
GROUP BY dim, month, currency
