-- name: at_risk_clients
-- title: Valuable owned clients who are probably gone
-- description: The clients an owner would call: accounts (client × currency) whose realized net
-- description: value up to {as_of} is at least the {value_quantile} quantile of their currency
-- description: (among the clients selected by owner and sector) and whose BG/NBD P(alive) as of
-- description: {as_of} is below {max_p_alive}, most valuable first; with the days since the last
-- description: purchase, the expected purchases in the next 90 days and the predicted CLV that
-- description: is still expected. From client_predictions (`taskole predict`).
-- param: as_of Date; the as-of day of the predictions
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: max_p_alive Float64 = 0.5; P(alive) below this is at risk
-- param: value_quantile Float64 = 0.75; realized value at least this quantile of the currency is high
-- columns: owner_business_id, sector, client_id, currency, purchases, days_since_last, p_alive, realized_value, purchases_90d, predicted_clv, threshold
SELECT
    owner_business_id,
    sector,
    client_id,
    currency,
    x + 1 AS purchases,
    toUInt32(round((age - t_x) * 7)) AS days_since_last,
    p_alive,
    realized_value,
    purchases_90d,
    predicted_clv,
    threshold
FROM
(
    SELECT owner_business_id, sector, client_id, currency, x, age, t_x, p_alive, realized_value,
           purchases_90d, predicted_clv
    FROM client_predictions
    WHERE as_of = {as_of:Date}
      AND {{clientScope "owner_business_id"}}
) AS p
ALL INNER JOIN
(
    -- The nearest-rank quantile, from the sorted values: aggregate function parameters must
    -- be literals, and a substituted parameter is an expression.
    SELECT
        currency,
        arraySort(groupArray(toFloat64(realized_value)))[toUInt64(greatest(1, ceil(count() * {value_quantile:Float64})))] AS threshold
    FROM client_predictions
    WHERE as_of = {as_of:Date}
      AND {{clientScope "owner_business_id"}}
    GROUP BY currency
) AS q USING (currency)
WHERE toFloat64(realized_value) >= threshold AND p_alive < {max_p_alive:Float64}
ORDER BY currency, realized_value DESC, client_id
