-- name: predicted_clv
-- title: Predicted CLV (BG/NBD × Gamma-Gamma) against realized value
-- description: From the client_predictions written by `taskole predict` as of {as_of}: per
-- description: group and currency, the clients (client × currency accounts), mean P(alive),
-- description: expected purchases in the next 30/90/365 days, realized net value up to {as_of},
-- description: predicted CLV over the next 365 days (discounted, see consumers/predict) split
-- description: into direct (from the owner) and indirect (elsewhere), the owner's expected
-- description: commissions, and realized and predicted value per client (truncated to 4 decimals).
-- param: as_of Date; the as-of day of the predictions (a date `taskole predict` ran for)
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: dim, currency, clients, mean_p_alive, purchases_30d, purchases_90d, purchases_365d, realized_value, predicted_clv, predicted_direct, predicted_indirect, expected_commissions, realized_per_client, predicted_per_client
SELECT
    dim,
    currency,
    clients,
    mean_p_alive,
    purchases_30d,
    purchases_90d,
    purchases_365d,
    realized_value,
    predicted_clv,
    predicted_direct,
    predicted_indirect,
    expected_commissions,
    realized_value / clients AS realized_per_client,
    predicted_clv / clients AS predicted_per_client
FROM
(
    SELECT
        {{clientDim "owner_business_id" "cohort"}} AS dim,
        currency,
        count() AS clients,
        avg(p_alive) AS mean_p_alive,
        sum(purchases_30d) AS purchases_30d,
        sum(purchases_90d) AS purchases_90d,
        sum(purchases_365d) AS purchases_365d,
        sum(realized_value) AS realized_value,
        sum(predicted_clv) AS predicted_clv,
        sum(predicted_direct) AS predicted_direct,
        sum(predicted_indirect) AS predicted_indirect,
        sum(expected_commissions) AS expected_commissions
    FROM client_predictions
    WHERE as_of = {as_of:Date}
      AND {{clientScope "owner_business_id"}}
    GROUP BY dim, currency
)
ORDER BY dim, currency
