-- name: lifecycle_counts
-- title: Clients per lifecycle stage at a date
-- description: The number of clients in each lifecycle stage at {at} (UTC), stages as in
-- description: lifecycle_stage: potential (not yet a customer), one_time, regular, returning,
-- description: former. Only stages with clients have a row.
-- param: at DateTime; the instant, UTC ('2025-06-30 23:59:59')
-- param: by String = platform; grouping of the dim column: platform, owner, sector or cohort
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: dim, stage, clients
SELECT
    {{clientDim "owner_business_id" "cohort"}} AS dim,
    {{part "stage_at"}} AS stage,
    count() AS clients
{{part "clients_at"}}
GROUP BY dim, stage
ORDER BY dim, stage
