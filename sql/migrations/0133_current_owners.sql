-- 0133_current_owners: each client's owner of record kept as data arrives, read with FINAL.
--
-- client_owners (0100) re-derived every client's owner from all of referral_owners at each
-- reference: an argMax GROUP BY over ~1 row per client by a String key, 0.12-0.3 s at 100k
-- clients, and the pack names it up to six times per panel (18.16 has no CTEs). Here a
-- materialized view on referral_owners writes each stored record, with its position, to
-- current_owners, a ReplacingMergeTree keyed by client_id and versioned by that position;
-- client_owners is re-created over current_owners FINAL (a sorted merge of the parts at read
-- time: 0.04-0.08 s for the same clients). Two views of 0132 are re-created too, cheaper
-- for the same answers: client_months (from purchase_instants) and retention_cost_allocations
-- (its spread grouped over the spending businesses' clients only). docs/DESIGN.md, "Owners
-- kept by position".
--
-- Same owner as before. client_owners took, per client, argMax(..., written) with written =
-- bitShiftLeft(toUInt64(_partition), 40) + _offset (the last record of the compacted topic;
-- an offset stays below 2^40). ReplacingMergeTree(written) keeps, per client_id, the row with
-- the largest written, in a merge and in FINAL alike, so FINAL returns that same record. Two
-- rows tie only when they share (_partition, _offset): the same record of the one
-- referral-owners topic stored twice, with the same columns, so the rule for ties (argMax
-- keeps the first row it meets, ReplacingMergeTree the last) never picks other values.
--
-- Exact under duplicates, corrections and late data: a row is a whole record, not a delta;
-- the table's content is a function of the SET of records stored (per client the one with the
-- largest position), so a record stored twice (a re-run backfill, a rebuild that overlaps the
-- view, a view insert repeated after a crash) changes nothing once read with FINAL, and a
-- correction is a later record with a larger position that replaces the earlier one whatever
-- the order of inserts and merges. Hence, unlike the sums of 0131, the view is created before
-- the backfill (no record between the two is missed; one in both is harmless), and a rebuild
-- may overlap the sink.

CREATE TABLE IF NOT EXISTS current_owners
(
    client_id         String,
    owner_business_id String,
    owned_since       DateTime('UTC'),
    source            Enum8('enrollment' = 1, 'booking' = 2),
    event_id          String,
    written           UInt64
)
ENGINE = ReplacingMergeTree(written)
ORDER BY client_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS current_owners_mv TO current_owners AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    source,
    event_id,
    bitShiftLeft(toUInt64(_partition), 40) + _offset AS written
FROM referral_owners;

INSERT INTO current_owners (client_id, owner_business_id, owned_since, source, event_id, written)
SELECT
    client_id,
    owner_business_id,
    owned_since,
    source,
    event_id,
    bitShiftLeft(toUInt64(_partition), 40) + _offset AS written
FROM referral_owners;

-- client_owners: as in 0100 (see there: the columns, the cohort, the sector and its activity
-- window), over current_owners FINAL instead of the argMax GROUP BY over referral_owners.
-- The sector stays a query-time join: a businesses event rewrites it for all of the past.
DROP TABLE IF EXISTS client_owners;

CREATE VIEW IF NOT EXISTS client_owners AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    toStartOfMonth(owned_since) AS cohort,
    source,
    event_id,
    sector,
    if(activity_window_days = 0, 60, activity_window_days) AS activity_window_days
FROM
(
    SELECT client_id, owner_business_id, owned_since, toString(source) AS source, event_id
    FROM current_owners FINAL
) AS lhs
ANY LEFT JOIN
(
    SELECT business_id AS owner_business_id, sector, activity_window_days
    FROM business_profiles
) AS rhs USING (owner_business_id);

-- client_months: as in 0132 (see there), the months with a purchase taken from
-- purchase_instants (purchase_times_rollup FINAL, two key columns) instead of
-- purchase_months_rollup FINAL (five): a booking adds 0 or 1 purchase to the cell of its
-- completion second and to that of its month alike, so a month has a cell with purchases > 0
-- in one rollup iff it has one in the other.
DROP TABLE IF EXISTS client_months;

CREATE VIEW IF NOT EXISTS client_months AS
SELECT client_id, months, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT client_id, arraySort(groupUniqArray(toStartOfMonth(completed_at))) AS months
    FROM purchase_instants
    GROUP BY client_id
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_id);

-- retention_cost_allocations: as in 0132 (see there: the one place retention spend is
-- allocated), the purchase instants of the spread grouped per (client, month) only for the
-- clients of businesses with an event naming no client: the join to those clients keeps no
-- other, so the answer is the same and the largest GROUP BY of net_clv covers ~30% of the
-- instants at 100k clients.
DROP TABLE IF EXISTS retention_cost_allocations;

CREATE VIEW IF NOT EXISTS retention_cost_allocations AS
SELECT owner_business_id, sector, cohort, currency, amount, cost_month
FROM
(
    -- Events naming a client: the whole amount is that client's.
    SELECT owner_business_id, sector, cohort, currency, total AS amount, cost_month
    FROM
    (
        SELECT
            event_id,
            any(client_id) AS client_id,
            any(currency) AS currency,
            any(amount) AS total,
            toStartOfMonth(any(occurred_at)) AS cost_month
        FROM retention_costs
        GROUP BY event_id
        HAVING client_id != ''
    ) AS e
    ALL INNER JOIN
    (
        SELECT client_id, owner_business_id, sector, cohort
        FROM client_owners
    ) AS o USING (client_id)
    UNION ALL
    -- Events naming no client: amount / n to each of the n clients of the business
    -- active during the event's month.
    SELECT
        owner_business_id,
        sector,
        arrayJoin(cohorts) AS cohort,
        currency,
        total / length(cohorts) AS amount,
        cost_month
    FROM
    (
        SELECT
            event_id,
            any(owner_business_id) AS owner_business_id,
            any(sector) AS sector,
            any(currency) AS currency,
            any(total) AS total,
            any(cost_month) AS cost_month,
            groupArray(cohort) AS cohorts
        FROM
        (
            SELECT *
            FROM
            (
                SELECT
                    event_id,
                    any(business_id) AS owner_business_id,
                    any(currency) AS currency,
                    any(amount) AS total,
                    toStartOfMonth(any(occurred_at)) AS cost_month
                FROM retention_costs
                GROUP BY event_id
                HAVING any(client_id) = ''
            ) AS u
            ALL INNER JOIN
            (
                -- (owner, month, client): the owner's clients active during the month. A
                -- purchase at t makes its client active in the months of t .. t + window;
                -- per client and month the last purchase reaches furthest, so the last
                -- instants alone give every such month (activity_instants' first ones add
                -- none). Only the (owner, month) pairs an event naming no client can join
                -- are kept: each such event has a row naming no client, so its business
                -- and month are among those of the rows of these event ids.
                SELECT owner_business_id, cost_month, client_id, any(sector) AS sector, any(cohort) AS cohort
                FROM
                (
                    SELECT
                        owner_business_id,
                        client_id,
                        sector,
                        cohort,
                        arrayJoin(arrayMap(i -> addMonths(month, i),
                            range(toUInt64(dateDiff('month', month,
                                toStartOfMonth(last_at + toUInt32(activity_window_days) * 86400)) + 1)))) AS cost_month
                    FROM
                    (
                        -- only the clients of those businesses (the join below keeps no
                        -- other): the GROUP BY is the cost of this view
                        SELECT client_id, toStartOfMonth(completed_at) AS month, max(completed_at) AS last_at
                        FROM purchase_instants
                        WHERE client_id IN
                        (
                            SELECT client_id
                            FROM client_owners
                            WHERE owner_business_id IN
                            (
                                SELECT business_id
                                FROM retention_costs
                                WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                            )
                        )
                        GROUP BY client_id, month
                    ) AS t
                    ALL INNER JOIN
                    (
                        SELECT client_id, owner_business_id, sector, cohort, activity_window_days
                        FROM client_owners
                        WHERE owner_business_id IN
                        (
                            SELECT business_id
                            FROM retention_costs
                            WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                        )
                    ) AS o USING (client_id)
                )
                WHERE (owner_business_id, cost_month) IN
                (
                    SELECT business_id, toStartOfMonth(occurred_at)
                    FROM retention_costs
                    WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                )
                GROUP BY owner_business_id, cost_month, client_id
            ) AS act USING (owner_business_id, cost_month)
        ) AS ua
        GROUP BY event_id
    ) AS spread
) AS allocated;
