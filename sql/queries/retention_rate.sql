-- name: retention_rate
-- title: Customer retention rate (CRR) per month
-- description: For every calendar month up to the month of {until} with clients active at
-- description: its first or at its last instant: S = clients active at its first instant
-- description: (active_start), E = clients active at its last instant, the month's last
-- description: second (active_end), N = those of E whose ownership was established during the
-- description: month, owned_since from its first instant to its last (new_active_end), and
-- description: CRR = (E - N) / S (retention_rate; NULL when S = 0). Active at t: a purchase
-- description: with t - window <= purchase time <= t, the window being the activity window of
-- description: the sector of the client's owner (sector_settings, default 60 days), as in
-- description: churn_ltv. A client counts under its current owner, sector and cohort.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month
-- columns: dim, month, active_start, active_end, new_active_end, retained, retention_rate
SELECT
    dim,
    month,
    active_start,
    active_end,
    new_active_end,
    active_end - new_active_end AS retained,
    if(active_start = 0, NULL, (active_end - new_active_end) / active_start) AS retention_rate
FROM
(
    -- Every month from one with a change to the next one of its group: the running counts.
    SELECT
        dim,
        addMonths(from_month, k) AS month,
        toUInt64(running_start) AS active_start,
        toUInt64(running_end) AS active_end,
        toUInt64(if(k = 0, month_new, 0)) AS new_active_end
    FROM
    (
        SELECT dim, from_month, running_start, running_end, month_new,
            arrayJoin(range(toUInt64(dateDiff('month', from_month, to_month)))) AS k
        FROM
        (
            -- Per group, in month order, the running sums of the changes: clients active at a
            -- month's first and at its last instant, from that month until the next change.
            SELECT
                dim,
                arraySort(groupArray((month, starts_change, ends_change, new_clients))) AS cells,
                arrayMap(c -> tupleElement(c, 1), cells) AS months,
                arrayCumSum(arrayMap(c -> tupleElement(c, 2), cells)) AS starts_run,
                arrayCumSum(arrayMap(c -> tupleElement(c, 3), cells)) AS ends_run,
                arrayMap(c -> tupleElement(c, 4), cells) AS news,
                arrayPushBack(arrayPopFront(months), addMonths(months[-1], 1)) AS next_months
            FROM
            (
                SELECT
                    dim,
                    tupleElement(change, 1) AS month,
                    sum(tupleElement(change, 2)) AS starts_change,
                    sum(tupleElement(change, 3)) AS ends_change,
                    sum(tupleElement(change, 4)) AS new_clients
                FROM
                (
                    -- Each range of months adds 1 from its first month and 1 less after its
                    -- last; a client's runs cover disjoint spans, so no month is counted twice
                    -- for one client (0143). The client counts in N in the month of its
                    -- owned_since if a run covers that month's last second.
                    SELECT
                        dim,
                        arrayJoin(arrayFilter(c -> tupleElement(c, 5), [
                            (start_from, toInt64(1), toInt64(0), toInt64(0), start_from <= start_to),
                            (addMonths(start_to, 1), toInt64(-1), toInt64(0), toInt64(0), start_from <= start_to),
                            (end_from, toInt64(0), toInt64(1), toInt64(0), end_from <= end_to),
                            (addMonths(end_to, 1), toInt64(0), toInt64(-1), toInt64(0), end_from <= end_to),
                            (owned_month, toInt64(0), toInt64(0), toInt64(1), owned_month >= end_from AND owned_month <= end_to)])) AS change
                    FROM
                    (
                        -- Per run of a client's purchases, its ranges of months
                        -- (client_activity_runs, 0143)
                        SELECT
                            {{clientDim "owner_business_id" "cohort"}} AS dim,
                            toStartOfMonth(owned_since) AS owned_month,
                            start_from,
                            start_to,
                            end_from,
                            end_to
                        FROM client_activity_runs
                        WHERE {{clientScope "owner_business_id"}}
                    )
                )
                GROUP BY dim, month
            )
            GROUP BY dim
        )
        ARRAY JOIN months AS from_month, next_months AS to_month, starts_run AS running_start,
            ends_run AS running_end, news AS month_new
    )
    WHERE (running_start > 0 OR running_end > 0)
      AND addMonths(from_month, k) <= toStartOfMonth({until:Date})
)
ORDER BY dim, month
