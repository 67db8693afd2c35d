{{/* Per dim and cohort month of a client metric up to {until}'s month: the cohort's clients
(client_owners, one row per client). */ -}}
SELECT
    {{clientDim "owner_business_id" "cohort"}} AS dim,
    cohort,
    count() AS cohort_clients
FROM client_owners
WHERE {{clientScope "owner_business_id"}}
  AND cohort <= toStartOfMonth({until:Date})
GROUP BY dim, cohort
