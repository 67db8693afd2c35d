-- name: lifecycle_stage
-- title: Lifecycle stage of every client at a date
-- description: Every client whose ownership was established by {at} (UTC), with the purchases
-- description: made by then and the stage at {at}: potential (no purchase yet; not a customer),
-- description: former (no purchase in the activity window before {at}), one_time (active, exactly
-- description: one purchase ever), returning (active, and the latest purchase came more than the
-- description: window after the one before it), regular (any other active client). The window
-- description: is the activity window of the sector of the client's owner (default 60 days).
-- description: first_purchase_at and last_purchase_at are NULL for a client without a purchase.
-- param: at DateTime; the instant, UTC ('2025-06-30 23:59:59')
-- param: owner String = ; only clients of this owner business (empty: all)
-- param: sector String = ; only clients whose owner is in this sector (empty: all)
-- columns: client_id, owner_business_id, sector, cohort, purchases, first_purchase_at, last_purchase_at, stage
SELECT
    client_id,
    owner_business_id,
    sector,
    cohort,
    purchases,
    if(purchases = 0, NULL, first_at) AS first_purchase_at,
    if(purchases = 0, NULL, last_at) AS last_purchase_at,
    {{part "stage_at"}} AS stage
{{part "clients_at"}}
ORDER BY client_id
