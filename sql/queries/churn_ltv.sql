-- name: churn_ltv
-- title: Churn, AMPU and LTV per month
-- description: For every calendar month up to the month of {until} with clients active at its
-- description: first instant: those clients (active_start), how many of them are still active
-- description: at its last instant (the month's last second), churn rate = (active_start -
-- description: retained) / active_start. Active at t: a purchase with t - window <= purchase
-- description: time <= t, the window being the activity window of the sector of the client's
-- description: owner (sector_settings, default 60 days). Per currency of the month's purchases:
-- description: net value of all the scope's purchases in the month, owner value (direct value
-- description: plus commissions kept by the owners), AMPU = value / active_start (truncated to
-- description: 4 decimals) and LTV = AMPU / churn rate (NULL when churn is zero). Platform
-- description: dashboards read ampu/ltv, owner and sector dashboards owner_ampu/owner_ltv.
-- description: A month without purchases has one row with empty currency and zero values.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month
-- columns: dim, month, active_start, retained, churned, churn_rate, currency, net_value, owner_value, ampu, owner_ampu, ltv, owner_ltv
SELECT
    dim,
    month,
    active_start,
    retained,
    churned,
    churn_rate,
    currency,
    net_value,
    owner_value,
    net_value / active_start AS ampu,
    owner_value / active_start AS owner_ampu,
    if(churn_rate = 0, NULL, toFloat64(net_value) / active_start / churn_rate) AS ltv,
    if(churn_rate = 0, NULL, toFloat64(owner_value) / active_start / churn_rate) AS owner_ltv
FROM
(
    -- Per group and month with clients active at its first instant: those clients, and those
    -- of them still active at its last instant (retained), from each client's runs of
    -- purchases as ranges of months (client_activity_runs, 0143): active at a month's first
    -- second in start_from .. start_to, at both its seconds in start_from .. end_to and in a
    -- carried start_to. A client's runs cover disjoint spans, so no month is counted twice for
    -- one client: the counts are running sums of +1 at each range's first month and -1 after
    -- its last.
    SELECT
        dim,
        month,
        active_start,
        retained,
        active_start - retained AS churned,
        churned / active_start AS churn_rate
    FROM
    (
        {{part "active_and_retained" "dim" (clientDim "owner_business_id" "cohort") "scope" (clientScope "owner_business_id") "limit" "AND addMonths(from_month, k) <= toStartOfMonth({until:Date})"}}
    )
) AS lhs
ALL LEFT JOIN
(
    SELECT
        {{clientDim "owner_business_id" "cohort"}} AS dim,
        month,
        currency,
        sum(value) AS net_value,
        sumIf(value, direct) + sum(commission) AS owner_value
    FROM
    (
        SELECT owner_business_id, sector, cohort, month, currency, purchases, net_value AS value, direct, commission
        FROM purchase_cells_unmerged
        WHERE {{clientScope "owner_business_id"}}
          AND month <= toStartOfMonth({until:Date})
    )
    GROUP BY dim, month, currency
    -- the group has a purchase (every cell's purchases >= 0: 0134)
    HAVING sum(purchases) > 0
) AS rhs USING (dim, month)
ORDER BY dim, month, currency
