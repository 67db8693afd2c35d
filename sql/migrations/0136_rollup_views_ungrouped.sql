-- 0136_rollup_views_ungrouped: the three purchase views pass each fact through to its rollup
-- instead of grouping every insert block first.
--
-- The views of 0131 (purchase_months_mv, purchase_times_mv) and 0135 (client_months_mv) ran a
-- GROUP BY of each sink insert block by the rollup's key, summing Decimal columns, inside the
-- sink's INSERT. A block of 50,000 facts of many clients has almost no two facts with one key
-- (one per completion second and client; a month's cell gathers a client's few facts), so the
-- grouping bought a few rows less per part at the price of a hash table and Decimal sums per
-- block: 2,014,035 facts of the 1M-client load inserted in 50,000-row blocks took 12.3-13.7 s
-- with the grouping views, 5.0-5.4 s with these and 2.4-2.8 s with none
-- (deploy/local/bench-views.sh; docs/BENCHMARKS.md, 2026-12-03 "views pass facts through").
--
-- Exactness: unchanged. Each stored fact now adds its own row to its cell (the rollups'
-- SummingMergeTree sums rows of one key at merge time and every reader sums or reads with
-- FINAL), and a sum does not depend on how its terms were split into rows; the argument of
-- 0131 (and DESIGN.md, "Rollups") counts each stored delta once per cell either way. The WHERE
-- skips a fact that adds zero to every sum of its rollup, as the HAVING skipped a zero cell of
-- a block. The Decimal(18, 4) facts are widened to the rollups' Decimal(38, 4) as sum() did.
--
-- The backfills and `--rebuild-rollups` are those of 0131 and 0135 (a rebuild groups; a sum is
-- a sum). Apply this file with the sink stopped, like 0131: a fact stored between a view's DROP
-- and its CREATE would reach no rollup (`taskole migrate --rebuild-rollups` repairs that).

DROP TABLE IF EXISTS purchase_months_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS purchase_months_mv TO purchase_months_rollup AS
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    currency,
    provider_business_id,
    commission_owner,
    toInt64(purchases) AS purchases,
    toDecimal128(amount, 4) AS amount,
    toDecimal128(refunded, 4) AS refunded,
    toDecimal128(commission, 4) AS commission
FROM purchase_facts
WHERE purchases != 0 OR amount != 0 OR refunded != 0 OR commission != 0;

DROP TABLE IF EXISTS purchase_times_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS purchase_times_mv TO purchase_times_rollup AS
SELECT client_id, completed_at, toInt64(purchases) AS purchases
FROM purchase_facts
WHERE purchases != 0;

DROP TABLE IF EXISTS client_months_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS client_months_mv TO client_months_rollup AS
SELECT client_id, toStartOfMonth(completed_at) AS month, toInt64(purchases) AS purchases
FROM purchase_facts
WHERE purchases != 0;
