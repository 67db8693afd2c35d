{{/* Per dim and month with clients active at its first instant: those clients (active_start)
and those of them still active at its last instant (retained), from each client's runs of
purchases as ranges of months (client_activity_runs, 0143). .dim is the dim column, .scope the
filters' condition, .limit an extra condition on the month (addMonths(from_month, k)) or "".
Used by churn_ltv and cac_ltv. */ -}}
SELECT
    dim,
    addMonths(from_month, k) AS month,
    toUInt64(running_start) AS active_start,
    toUInt64(running_retained) AS retained
FROM
(
    SELECT dim, from_month, running_start, running_retained,
        arrayJoin(range(toUInt64(dateDiff('month', from_month, to_month)))) AS k
    FROM
    (
        -- per group, in month order, the running sums of the changes
        SELECT
            dim,
            arraySort(groupArray((month, starts_change, retained_change))) AS cells,
            arrayMap(c -> tupleElement(c, 1), cells) AS months,
            arrayCumSum(arrayMap(c -> tupleElement(c, 2), cells)) AS starts_run,
            arrayCumSum(arrayMap(c -> tupleElement(c, 3), cells)) AS retained_run,
            arrayPushBack(arrayPopFront(months), addMonths(months[-1], 1)) AS next_months
        FROM
        (
            SELECT
                dim,
                tupleElement(change, 1) AS month,
                sum(tupleElement(change, 2)) AS starts_change,
                sum(tupleElement(change, 3)) AS retained_change
            FROM
            (
                SELECT
                    dim,
                    arrayJoin(arrayFilter(c -> tupleElement(c, 4), [
                        (start_from, toInt64(1), toInt64(0), start_from <= start_to),
                        (addMonths(start_to, 1), toInt64(-1), toInt64(0), start_from <= start_to),
                        (start_from, toInt64(0), toInt64(1), start_from <= end_to),
                        (addMonths(end_to, 1), toInt64(0), toInt64(-1), start_from <= end_to),
                        (start_to, toInt64(0), toInt64(1), carried),
                        (addMonths(start_to, 1), toInt64(0), toInt64(-1), carried)])) AS change
                FROM
                (
                    -- Per run of a client's purchases, its ranges of months
                    -- (client_activity_runs, 0143)
                    SELECT
                        {{.dim}} AS dim,
                        start_from,
                        start_to,
                        end_to,
                        carried
                    FROM client_activity_runs
                    WHERE {{.scope}}
                )
            )
            GROUP BY dim, month
        )
        GROUP BY dim
    )
    ARRAY JOIN months AS from_month, next_months AS to_month, starts_run AS running_start,
        retained_run AS running_retained
)
WHERE running_start > 0{{if .limit}}
  {{.limit}}{{end}}
