{{/* Per dim and cohort month of a client metric up to {until}'s month: the cohort's clients
(client_owners, one row per client). Used by retention_clients, retention_value, realized_clv
and the part acquired_to_date. */ -}}
SELECT
    {{clientDim "owner_business_id" "cohort"}} AS dim,
    cohort,
    count() AS cohort_clients
FROM client_owners
WHERE {{clientScope "owner_business_id"}}
  AND cohort <= toStartOfMonth({until:Date})
GROUP BY dim, cohort
