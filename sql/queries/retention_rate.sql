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
        -- Per client and month from its first purchase's on (client_activity_months, 0132):
        -- active at the month's first and at its last instant, ownership established in the
        -- month? (A month outside every purchase's reach is active at neither.)
        SELECT
            multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                    {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
            month,
            established,
            starts_active,
            ends_active
        FROM client_activity_months
        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
          AND ({sector:String} = '' OR sector = {sector:String})
          AND month <= toStartOfMonth({until:Date})
          AND (starts_active OR ends_active)
    )
    GROUP BY dim, month
)
ORDER BY dim, month
