-- name: p_alive_distribution
-- title: Distribution of P(alive)
-- description: From the client_predictions written by `taskole predict` as of {as_of}: the
-- description: number of client accounts (client × currency) per tenth of BG/NBD P(alive),
-- description: bin 0 = [0, 0.1) … bin 9 = [0.9, 1], per group.
-- param: as_of Date; the as-of day of the predictions
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: dim, bin, lower, upper, clients
SELECT
    dim,
    bin,
    bin / 10 AS lower,
    (bin + 1) / 10 AS upper,
    clients
FROM
(
    SELECT
        {{clientDim "owner_business_id" "cohort"}} AS dim,
        least(toUInt8(9), toUInt8(floor(p_alive * 10))) AS bin,
        count() AS clients
    FROM client_predictions
    WHERE as_of = {as_of:Date}
      AND {{clientScope "owner_business_id"}}
    GROUP BY dim, bin
)
ORDER BY dim, bin
