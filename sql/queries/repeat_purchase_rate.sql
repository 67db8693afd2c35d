-- name: repeat_purchase_rate
-- title: Repeat purchase rate per month
-- description: For every calendar month up to the month of {until}: the scope's clients with
-- description: at least one purchase in the month, those with two or more, and their ratio
-- description: (RPR). Purchases in every currency count.
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- param: until Date; any day of the last calendar month
-- columns: dim, month, buyers, repeat_buyers, repeat_purchase_rate
SELECT
    {{clientDim "owner_business_id" "cohort"}} AS dim,
    month,
    count() AS buyers,
    countIf(purchases >= 2) AS repeat_buyers,
    repeat_buyers / buyers AS repeat_purchase_rate
FROM client_month_purchases
WHERE {{clientScope "owner_business_id"}}
  AND month <= toStartOfMonth({until:Date})
GROUP BY dim, month
ORDER BY dim, month
