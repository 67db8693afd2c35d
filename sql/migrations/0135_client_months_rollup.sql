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

-- client_month_purchases: per client with a referral owner and month with a purchase (any
-- currency or provider), the number of purchases, with the owner's columns. The filter on the
-- summed column stays outside the FINAL read, so it sees merged sums (0132).
CREATE VIEW IF NOT EXISTS client_month_purchases AS
SELECT client_id, month, purchases, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT client_id, month, purchases
    FROM
    (
        SELECT client_id, month, purchases
        FROM client_months_rollup FINAL
    ) AS cells
    WHERE purchases > 0
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_id);

-- client_months: as in 0133 (see there), the sorted months with a purchase, now from this
-- rollup: one merged cell per (client, month), > 0 iff the month holds a purchase, so the
-- months are the same.
DROP TABLE IF EXISTS client_months;

CREATE VIEW IF NOT EXISTS client_months AS
SELECT client_id, months, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT client_id, arraySort(groupUniqArray(month)) AS months
    FROM
    (
        SELECT client_id, month, purchases
        FROM client_months_rollup FINAL
    ) AS cells
    WHERE purchases > 0
    GROUP BY client_id
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_id);

-- client_lifespan_steps: what the lifespans of order_metrics and net_clv need of every client,
-- summed per owner, sector, cohort and month with a purchase: the buyers (clients with a
-- purchase in the month), the months each adds to its lifespan (first month with a purchase to
-- the last one so far, + 1: 1 in its first month, then the months since its previous purchase)
-- and the clients whose first purchase it is. A group's running sums of the last two over its
-- months are, as of each month, the sum of its buyers' lifespans so far and their number: a
-- month counts only months before or equal to it, so a panel's {until} cuts the rows, not the
-- sums. ~100k rows at 1M clients, so the panels group them by their scope at query time.
CREATE VIEW IF NOT EXISTS client_lifespan_steps AS
SELECT
    owner_business_id,
    sector,
    cohort,
    month,
    count() AS buyers,
    sum(added) AS added_months,
    sum(first) AS new_clients
FROM
(
    SELECT owner_business_id, sector, cohort, months
    FROM client_months
) AS cm
ARRAY JOIN
    months AS month,
    arrayMap((d, i) -> toUInt64(if(i = 1, 1, d)), arrayDifference(arrayMap(m -> toRelativeMonthNum(m), months)), arrayEnumerate(months)) AS added,
    arrayMap(i -> toUInt64(i = 1), arrayEnumerate(months)) AS first
GROUP BY owner_business_id, sector, cohort, month;
