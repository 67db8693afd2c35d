-- DEVELOPMENT ONLY: fills purchase_facts from the raw tables of the same database, for
-- working on the rollups (0131) and the query pack before a ledger that writes
-- taskole.purchase-facts.v1 has produced any. NOT the ledger's facts and no benchmark figure
-- may come from them: one +1 delta per purchase of the purchases view (its amount and its
-- refunds already summed, in its completion month) and one commission delta per purchase and
-- owner with ledger entries (their sum). Summed per booking that is the purchases view's
-- judgement, which the real deltas must also give; cancelled bookings and zero-sum entries
-- simply have no rows here. Run into an empty purchase_facts:
--
--   clickhouse-client -d DATABASE -n < deploy/local/dev-purchase-facts.sql
--
-- _topic 'dev.purchase-facts' marks these rows (partition 0: purchases, 1: commissions).

INSERT INTO purchase_facts (fact_id, client_id, booking_id, provider_business_id, currency, completed_at, completed_at_ns, completed_at_unix, purchases, amount, refunded, commission_owner, commission, source_event_id, occurred_at, occurred_at_ns, occurred_at_unix, _topic, _partition, _offset)
SELECT
    concat('dev-', booking_id), client_id, booking_id, provider_business_id, currency,
    completed_at, 0, toInt64(completed_at), 1, amount, refunded, '', toDecimal64(0, 4), '',
    completed_at, 0, toInt64(completed_at), 'dev.purchase-facts', 0, rowNumberInAllBlocks()
FROM purchases;

INSERT INTO purchase_facts (fact_id, client_id, booking_id, provider_business_id, currency, completed_at, completed_at_ns, completed_at_unix, purchases, amount, refunded, commission_owner, commission, source_event_id, occurred_at, occurred_at_ns, occurred_at_unix, _topic, _partition, _offset)
SELECT
    concat('dev-', booking_id, '-', owner), client_id, booking_id, provider_business_id, currency,
    completed_at, 0, toInt64(completed_at), 0, toDecimal64(0, 4), toDecimal64(0, 4), owner, kept, '',
    completed_at, 0, toInt64(completed_at), 'dev.purchase-facts', 1, rowNumberInAllBlocks()
FROM
(
    SELECT booking_id, owner, sum(entry) AS kept
    FROM
    (
        SELECT commission_id, any(booking_id) AS booking_id, any(owner_business_id) AS owner, any(amount) AS entry
        FROM commissions
        GROUP BY commission_id
    )
    GROUP BY booking_id, owner
) AS lhs
ALL INNER JOIN
(
    SELECT booking_id, client_id, provider_business_id, currency, completed_at
    FROM purchases
) AS rhs USING (booking_id);
