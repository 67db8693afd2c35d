-- name: cac_ltv
-- title: CAC and LTV : CAC per business and month
-- description: Per calendar month with acquisition spend and its currency: the spend (each
-- description: acquisition-costs event once), the clients whose ownership the business(es)
-- description: established in the month, CAC = spend / those clients (NULL when none), the
-- description: LTV of the same scope and month as in churn_ltv (owner_ltv for a business or
-- description: sector: direct value plus commissions; ltv for the platform: net value of all
-- description: purchases; NULL when churn is zero) and LTV : CAC (NULL when either is).
-- param: by String = business; grouping of the dim column: business, sector or platform
-- param: business String = ; only this business (empty: all)
-- param: sector String = ; only businesses of this sector (empty: all)
-- columns: dim, month, currency, acquisition_spend, new_clients, cac, ltv, ltv_to_cac
SELECT
    dim,
    month,
    currency,
    acquisition_spend,
    new_clients,
    if(new_clients = 0, NULL, acquisition_spend / greatest(new_clients, 1)) AS cac,
    if(has_ltv AND churn_rate > 0, toFloat64(value) / active_start / churn_rate, NULL) AS ltv,
    if(new_clients = 0 OR acquisition_spend = 0, NULL, ltv / (toFloat64(acquisition_spend) / new_clients)) AS ltv_to_cac
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            SELECT
                {{businessDim "business_id"}} AS dim,
                spend_month AS month,
                currency,
                sum(amount) AS acquisition_spend
            FROM acquisition_spend
            WHERE {{businessScope "business_id"}}
            GROUP BY dim, month, currency
        ) AS lhs
        ANY LEFT JOIN
        (
            SELECT
                {{businessDim "owner_business_id"}} AS dim,
                cohort AS month,
                count() AS new_clients
            FROM client_owners
            WHERE {{businessScope "owner_business_id"}}
            GROUP BY dim, month
        ) AS rhs USING (dim, month)
    ) AS lhs
    ANY LEFT JOIN
    (
        -- Clients active at the month's first instant and churn rate, as in churn_ltv (the
        -- clients' runs of purchases as ranges of months, client_activity_runs, 0143).
        SELECT
            dim,
            month,
            active_start,
            retained,
            (active_start - retained) / active_start AS churn_rate
        FROM
        (
            {{part "active_and_retained" "dim" (businessDim "owner_business_id") "scope" (businessScope "owner_business_id") "limit" ""}}
        )
    ) AS rhs USING (dim, month)
) AS lhs
ANY LEFT JOIN
(
    -- The month's value per currency: net value for the platform, else direct + commissions.
    SELECT
        dim,
        month,
        currency,
        1 AS has_ltv,
        if({by:String} = 'platform', sum(v), sumIf(v, direct) + sum(commission)) AS value
    FROM
    (
        SELECT
            {{businessDim "owner_business_id"}} AS dim,
            month,
            currency,
            purchases,
            net_value AS v,
            direct,
            commission
        FROM purchase_cells_unmerged
        WHERE {{businessScope "owner_business_id"}}
    )
    GROUP BY dim, month, currency
    -- the group has a purchase (every cell's purchases >= 0: 0134)
    HAVING sum(purchases) > 0
) AS rhs USING (dim, month, currency)
ORDER BY dim, month, currency
