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
    SELECT
        dim,
        month,
        count() AS active_start,
        countIf(ends_active) AS retained,
        active_start - retained AS churned,
        churned / active_start AS churn_rate
    FROM
    (
        -- Per client and month from its first purchase's on (client_activity_months, 0132):
        -- active at the month's first and at its last instant? (A month outside every
        -- purchase's reach is active at neither.)
        SELECT
            multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                    {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
            month,
            ends_active
        FROM client_activity_months
        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
          AND ({sector:String} = '' OR sector = {sector:String})
          AND month <= toStartOfMonth({until:Date})
          AND starts_active
    )
    GROUP BY dim, month
) AS lhs
ALL LEFT JOIN
(
    SELECT
        multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector,
                {by:String} = 'cohort', toString(cohort), 'platform') AS dim,
        month,
        currency,
        sum(value) AS net_value,
        sumIf(value, direct) + sum(commission) AS owner_value
    FROM
    (
        SELECT owner_business_id, sector, cohort, month, currency, purchases, net_value AS value, direct, commission
        FROM purchase_cells_unmerged
        WHERE ({owner:String} = '' OR owner_business_id = {owner:String})
          AND ({sector:String} = '' OR sector = {sector:String})
          AND month <= toStartOfMonth({until:Date})
    )
    GROUP BY dim, month, currency
    -- the group has a purchase (every cell's purchases >= 0: 0134)
    HAVING sum(purchases) > 0
) AS rhs USING (dim, month)
ORDER BY dim, month, currency
