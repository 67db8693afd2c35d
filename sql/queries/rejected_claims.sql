-- name: rejected_claims
-- title: Rejected ownership claims per business and month
-- description: Enrollments that did not win ownership (R1): enrollments of a client by a
-- description: business other than the client's current referral owner, per enrolling
-- description: business and calendar month of the enrollment's occurred_at. Each enrollment
-- description: counts once per event_id; a business re-enrolling its own client is not a
-- description: rejection; enrollments of clients without an owner record yet, and
-- description: enrollments the ledger refused (dead-lettered), are left out. The owner is
-- description: the current one, so a later ownership correction is reflected: the displaced
-- description: owner's enrollment becomes a rejected claim and the new owner's stop being one
-- description: (the counter taskole_ledger_rejected_enrollments_total counts at judgement time
-- description: and cannot; this query is the authority).
-- param: by String = business; grouping of the dim column: business, sector or platform
-- param: business String = ; only claims by this business (empty: all)
-- param: sector String = ; only claims by businesses of this sector (empty: all)
-- columns: dim, month, rejected_claims, clients
SELECT
    {{businessDim "business_id"}} AS dim,
    month,
    count() AS rejected_claims,
    uniqExact(client_id) AS clients
FROM
(
    SELECT *
    FROM
    (
        SELECT
            event_id,
            any(client_id) AS client_id,
            any(business_id) AS business_id,
            toStartOfMonth(any(occurred_at)) AS month
        FROM accepted_enrollments
        GROUP BY event_id
    ) AS lhs
    ALL INNER JOIN (SELECT client_id, owner_business_id FROM client_owners) AS rhs USING (client_id)
    WHERE business_id != owner_business_id
) AS lhs
ANY LEFT JOIN (SELECT business_id, sector FROM business_profiles) AS rhs USING (business_id)
WHERE {{businessScope "business_id"}}
GROUP BY dim, month
ORDER BY dim, month
