-- 0130_purchase_facts: the ledger's purchase facts, as the sink stores them.
--
-- The ledger decides, per client and exactly once, which bookings are purchases (SPEC §3: a
-- booking that reached completed and was not cancelled afterwards), their refunds, and what
-- each owner keeps from them. It writes each change of that judgement, in the transaction
-- that makes it, as a signed delta to taskole.purchase-facts.v1 (keyed by client_id,
-- co-partitioned with the ledger's inputs):
--
--   * a booking becomes a purchase:        purchases = +1, amount = +completed amount;
--   * a purchase is refunded:              refunded  = +refund amount;
--   * a purchase is cancelled:             purchases = -1, amount = -amount, refunded = -refunds;
--   * an owner's commission entry for it:  commission_owner = that owner,
--                                          commission = the entry's amount (signed).
--
-- Summed per booking, the deltas are the booking's current judgement: what the purchases view
-- of 0100/0102 derives from the raw input tables, without owners (the query pack joins the
-- client's current owner, cohort and sector at query time, so an ownership correction moves no
-- stored cell; commission sums are taken for the current owner only). Every delta carries its
-- booking's completion time, so a refund or a cancellation months later lands in the
-- completion's month.
--
-- The rollups (later migrations) are fed from this table by materialized views; they stay
-- exact because the sink never stores a record of this topic twice: at assignment it resumes
-- each partition after the largest _offset already stored here (consumers/runners/sink), and
-- one insert block is one part, so what is stored of a partition is a prefix of its log.
-- Raw rows stay the source of truth: `taskole migrate --rebuild-rollups` recomputes every
-- rollup from this table.

CREATE TABLE IF NOT EXISTS purchase_facts
(
    fact_id              String,
    client_id            String,
    booking_id           String,
    provider_business_id String,
    currency             String,
    completed_at         DateTime('UTC'),
    completed_at_ns      UInt32,
    completed_at_unix    Int64,
    purchases            Int8,
    amount               Decimal(18, 4),
    refunded             Decimal(18, 4),
    commission_owner     String,
    commission           Decimal(18, 4),
    source_event_id      String,
    occurred_at          DateTime('UTC'),
    occurred_at_ns       UInt32,
    occurred_at_unix     Int64,
    _topic               String,
    _partition           UInt32,
    _offset              UInt64,
    _inserted_at         DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (_topic, _partition, _offset);
