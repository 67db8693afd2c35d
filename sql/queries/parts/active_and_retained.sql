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
            tupleElement(changes, 1) AS months,
            arrayCumSum(tupleElement(changes, 2)) AS starts_run,
            arrayCumSum(tupleElement(changes, 3)) AS retained_run,
            arrayPushBack(arrayPopFront(months), addMonths(months[-1], 1)) AS next_months
        FROM
        (
            -- Per group, the changes summed per month by sumMap: its months sorted, and
            -- a month whose sums are all zero left out (18.16; 26.x may keep it), which
            -- only splits a range of equal running counts. A group keeps at least its
            -- earliest month: a range's -1 comes after its +1, so the earliest month's
            -- changes are all +1.
            SELECT dim, sumMap(months, starts, retained) AS changes
            FROM
            (
                SELECT
                    dim,
                    arrayFilter((m, f) -> f, [start_from, addMonths(start_to, 1), start_from,
                        addMonths(end_to, 1), start_to, addMonths(start_to, 1)], flags) AS months,
                    arrayFilter((v, f) -> f, [toInt64(1), toInt64(-1), toInt64(0), toInt64(0),
                        toInt64(0), toInt64(0)], flags) AS starts,
                    arrayFilter((v, f) -> f, [toInt64(0), toInt64(0), toInt64(1), toInt64(-1),
                        toInt64(1), toInt64(-1)], flags) AS retained,
                    [start_from <= start_to, start_from <= start_to, start_from <= end_to,
                        start_from <= end_to, carried, carried] AS flags
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
                -- a run none of whose ranges is open changes nothing
                WHERE notEmpty(months)
            )
            GROUP BY dim
        )
    )
    ARRAY JOIN months AS from_month, next_months AS to_month, starts_run AS running_start,
        retained_run AS running_retained
)
WHERE running_start > 0{{if .limit}}
  {{.limit}}{{end}}
