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
    SELECT
        dim,
        month,
        countIf(starts_active) AS active_start,
        countIf(ends_active) AS active_end,
        countIf(ends_active AND established) AS new_active_end
    FROM
    (
        -- Per client and month from its first purchase's on: active at the month's first and at
        -- its last instant? (A month outside every purchase's reach is active at neither.)
        SELECT
            dim,
            client_id,
            month,
            owned_since >= month_start AND owned_since <= month_end AS established,
            arrayExists((t, lo, hi) -> t >= lo AND t <= hi, times,
                replicate(month_start - window_seconds, times), replicate(month_start, times)) AS starts_active,
            arrayExists((t, lo, hi) -> t >= lo AND t <= hi, times,
                replicate(month_end - window_seconds, times), replicate(month_end, times)) AS ends_active
        FROM
        (
            SELECT
                dim,
                client_id,
                owned_since,
                window_seconds,
                times,
                month,
                toDateTime(month, 'UTC') AS month_start,
                toDateTime(addMonths(month, 1), 'UTC') - 1 AS month_end
            FROM
            (
                -- Per client every purchase instant, read from purchase_times_rollup and joined to
                -- the client's owner afterwards (one row per client to join); a window holds a
                -- purchase iff it holds one of these instants.
                SELECT
                    dim,
                    client_id,
                    owned_since,
                    window_seconds,
                    times,
                    toStartOfMonth(first_at) AS first_month,
                    -- the last month whose first or last instant a purchase can make active
                    addMonths(toStartOfMonth(last_at + window_seconds), 1) AS last_month
                FROM
                (
                    SELECT client_id, groupArray(at) AS times, min(at) AS first_at, max(at) AS last_at
                    FROM
                    (
                        SELECT client_id, completed_at AS at, sum(purchases) AS n
                        FROM purchase_times_rollup
                        GROUP BY client_id, completed_at
                        HAVING n > 0
                    )
                    GROUP BY client_id
                ) AS t
                ALL INNER JOIN
                (
                    SELECT
                        client_id,
                        multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                                {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
                        owned_since,
                        toUInt32(activity_window_days) * 86400 AS window_seconds
                    FROM client_owners
                    WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
                      AND ({sector:String} = '' OR sector = {sector:String})
                ) AS o USING (client_id)
            )
            ARRAY JOIN arrayMap(i -> addMonths(first_month, i),
                range(toUInt64(dateDiff('month', first_month, last_month) + 1))) AS month
        )
        WHERE month <= toStartOfMonth({until:Date})
    )
    WHERE starts_active OR ends_active
    GROUP BY dim, month
)
ORDER BY dim, month
