{{/* Per dim and month of a client metric up to {until}'s month: the clients whose ownership
was established by the month's end (acquired_clients). Used by order_metrics and net_clv. */ -}}
-- Clients acquired to date.
-- (counted per cohort month first: the expansion into months then repeats a count
-- per group and cohort, not a row per client)
SELECT dim, month, sum(cohort_clients) AS acquired_clients
FROM
(
    {{part "cohort_clients"}}
)
ARRAY JOIN arrayMap(i -> addMonths(cohort, i),
    range(toUInt64(dateDiff('month', cohort, toStartOfMonth({until:Date})) + 1))) AS month
GROUP BY dim, month
