-- 0131_purchase_rollups: the purchase rollups the query pack reads, maintained from
-- purchase_facts (0130) by materialized views.
--
-- Two SummingMergeTree tables of signed sums, each cell keyed by what never changes for a
-- delta (its client, its booking's completion time, currency and provider, the owner of a
-- commission entry), never by an owner, cohort or sector: those are joined at query time from
-- client_owners, so an ownership correction moves no stored cell.
--
--   purchase_months_rollup  per client × completion month × currency × provider ×
--                           commission_owner: purchases, amount, refunded, commission.
--                           Purchase deltas have commission_owner = '' and commission 0;
--                           commission deltas carry their entry's owner.
--   purchase_times_rollup   per client × completion second: purchases (the activity windows,
--                           churn and lifecycle stages need purchase instants).
--
-- Exactness: summed per booking, the deltas of purchase_facts are the booking's current
-- judgement (0 or 1 purchase, its amount and refunds, each owner's net commission), and the
-- sink stores each record of the topic exactly once (per-table high-water marks, one part per
-- insert block). A cell is a sum over whole bookings' deltas, and a sum does not depend on how
-- the deltas were split into insert blocks, in what order they arrived or how the parts were
-- merged; so a cell holds exactly the sum of its bookings' current judgements, late and
-- corrected deltas included. A cell whose sums are all zero (a purchase later cancelled) is
-- dropped by the merge; the views below re-aggregate at query time (parts need not be merged)
-- and keep only cells with purchases > 0, which are exactly those holding at least one
-- purchase. See docs/DESIGN.md, "Rollups".
--
-- The backfills run before the views exist and only into an empty table, so re-running this
-- file after a failure half-way adds nothing twice; they count each fact_id once, so a
-- rebuild also repairs a delta the sink stored twice (docs/DESIGN.md, "Purchase facts", names
-- the one window where that can happen). Apply it with the sink stopped (the usual
-- order: migrate, then start the sink): a fact stored between a backfill and its view's
-- creation would reach neither; `taskole migrate --rebuild-rollups` (sql/migrations/
-- rebuild.sql) recomputes both tables from purchase_facts, which stays the source of truth.
--
-- The views skip an insert block's cells whose sums are all zero (commission deltas, for the
-- purchase counts of purchase_times_rollup; a completion and its cancellation in one block):
-- adding zero changes no sum, and merges would drop such rows anyway.
--
-- No PARTITION BY: a sink insert block spanning many completion months must stay one part per
-- table (and below max_partitions_per_insert_block). Money sums are Decimal(38, 4).
--
-- The plain views this file first created are defined, as they are now, in views.sql.

CREATE TABLE IF NOT EXISTS purchase_months_rollup
(
    client_id            String,
    month                Date,
    currency             String,
    provider_business_id String,
    commission_owner     String,
    purchases            Int64,
    amount               Decimal(38, 4),
    refunded             Decimal(38, 4),
    commission           Decimal(38, 4)
)
ENGINE = SummingMergeTree
ORDER BY (client_id, month, currency, provider_business_id, commission_owner);

CREATE TABLE IF NOT EXISTS purchase_times_rollup
(
    client_id    String,
    completed_at DateTime('UTC'),
    purchases    Int64
)
ENGINE = SummingMergeTree
ORDER BY (client_id, completed_at);

INSERT INTO purchase_months_rollup (client_id, month, currency, provider_business_id, commission_owner, purchases, amount, refunded, commission)
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    currency,
    provider_business_id,
    commission_owner,
    sum(toInt64(purchases)) AS purchases,
    sum(amount) AS amount,
    sum(refunded) AS refunded,
    sum(commission) AS commission
FROM
(
    SELECT
        fact_id,
        any(client_id) AS client_id,
        any(completed_at) AS completed_at,
        any(currency) AS currency,
        any(provider_business_id) AS provider_business_id,
        any(commission_owner) AS commission_owner,
        any(purchases) AS purchases,
        any(amount) AS amount,
        any(refunded) AS refunded,
        any(commission) AS commission
    FROM purchase_facts
    GROUP BY fact_id
) AS facts
WHERE (SELECT count() FROM purchase_months_rollup) = 0
GROUP BY client_id, month, currency, provider_business_id, commission_owner
HAVING purchases != 0 OR amount != 0 OR refunded != 0 OR commission != 0;

INSERT INTO purchase_times_rollup (client_id, completed_at, purchases)
SELECT
    client_id,
    completed_at,
    sum(toInt64(purchases)) AS purchases
FROM
(
    SELECT fact_id, any(client_id) AS client_id, any(completed_at) AS completed_at, any(purchases) AS purchases
    FROM purchase_facts
    GROUP BY fact_id
) AS facts
WHERE (SELECT count() FROM purchase_times_rollup) = 0
GROUP BY client_id, completed_at
HAVING purchases != 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS purchase_months_mv TO purchase_months_rollup AS
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    currency,
    provider_business_id,
    commission_owner,
    sum(toInt64(purchases)) AS purchases,
    sum(amount) AS amount,
    sum(refunded) AS refunded,
    sum(commission) AS commission
FROM purchase_facts
GROUP BY client_id, month, currency, provider_business_id, commission_owner
HAVING purchases != 0 OR amount != 0 OR refunded != 0 OR commission != 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS purchase_times_mv TO purchase_times_rollup AS
SELECT
    client_id,
    completed_at,
    sum(toInt64(purchases)) AS purchases
FROM purchase_facts
GROUP BY client_id, completed_at
HAVING purchases != 0;
