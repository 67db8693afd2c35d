{{/* Per dim and currency of a client metric: the sum, named .as, of the amounts of .table
dated (.month) up to the month of {as_of}. .owner and .cohort name the columns that clientDim
groups by. Used by predicted_net_clv (acquisition and retention cost, net_clv's rules). */ -}}
SELECT dim, currency, sum(amount) AS {{.as}}
FROM
(
    SELECT
        {{clientDim .owner .cohort}} AS dim,
        currency,
        amount
    FROM {{.table}}
    WHERE {{clientScope .owner}}
      AND {{.month}} <= toStartOfMonth({as_of:Date})
)
GROUP BY dim, currency
