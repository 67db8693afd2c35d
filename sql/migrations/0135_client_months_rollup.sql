-- 0135_client_months_rollup: the purchases of each client and month, as a rollup of their own.
--
-- Three panels ask only "how many purchases has this client in this month": retention_clients
-- (is the client active in month c+k), repeat_purchase_rate (one purchase or two and more) and,
-- through client_months, the lifespans and buyer counts of order_metrics and net_clv. They read
-- it from purchase_months_rollup FINAL (five String and Date key columns, every currency,
-- provider and commission owner: 4.8M cells at 1M clients) or purchase_times_rollup FINAL (one
-- cell per completion second: 6.1M), and grouped the result per (client, month) again. This
-- rollup keeps that one figure per (client, month): 2.9M cells at 1M clients, two key columns,
-- nothing left to group.
--
--   client_months_rollup  per client × completion month: purchases (SummingMergeTree).
--
-- Exactness: the argument of 0131 with a coarser key. Summed per booking, a booking's deltas in
-- purchase_facts add 0 or 1 purchase to the month of its completion (which never changes for a
-- booking), the sink stores each record of the topic exactly once and the view runs inside that
-- insert, and sums do not depend on the order, the blocks or the merges: each cell is the number
-- of the client's bookings completed in the month that are purchases now, >= 0, and it is > 0
-- iff the month holds a purchase. That is the same test as a cell of purchase_months_rollup
-- (or of purchase_times_rollup) with purchases > 0 in that month, since every purchase adds its
-- +1 to one cell of each rollup.
--
-- Like 0131 (sums, not idempotent states): the backfill runs before the view exists and only
-- into an empty table, counting each fact_id once; apply this file with the sink stopped, and
-- `taskole migrate --rebuild-rollups` recomputes the table from purchase_facts (its plan is
-- derived from this file). See docs/DESIGN.md, "Client months (0135)".
--
-- The plain views this file first created are defined, as they are now, in views.sql.

CREATE TABLE IF NOT EXISTS client_months_rollup
(
    client_id String,
    month     Date,
    purchases Int64
)
ENGINE = SummingMergeTree
ORDER BY (client_id, month);

INSERT INTO client_months_rollup (client_id, month, purchases)
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    sum(toInt64(purchases)) AS purchases
FROM
(
    SELECT fact_id, any(client_id) AS client_id, any(completed_at) AS completed_at, any(purchases) AS purchases
    FROM purchase_facts
    GROUP BY fact_id
) AS facts
WHERE (SELECT count() FROM client_months_rollup) = 0
GROUP BY client_id, month
HAVING purchases != 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS client_months_mv TO client_months_rollup AS
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    sum(toInt64(purchases)) AS purchases
FROM purchase_facts
GROUP BY client_id, month
HAVING purchases != 0;
