-- 0139_cost_allocations_active_test: retention_cost_allocations testing each spread
-- client's activity in its owner's event months, instead of expanding every purchase.
--
-- Same rows as 0138 (and 0133; see 0132, the one place retention spend is allocated): the
-- same chain of ANY LEFT JOINs, no UNION (0138's header says why), and the same rule. Two
-- reads change:
--
-- - The spread side. 0138 turned each (client, month) last purchase into the months it keeps
--   the client active (t .. t + window), kept the (business, month) pairs of events naming no
--   client, and deduplicated per (business, month, client) with a three-String-key GROUP BY.
--   Here each client of a business with such events meets the months of those events (a few
--   per business) and is kept for a month M iff arrayExists finds one of its purchase seconds
--   t with M start - window <= t <= M end: the rule's own words, one test per (client, event
--   month), so no per-client dedup is needed.
-- - The owners joined to events naming a client are read for the clients some event names
--   only (ANY LEFT JOIN: a client no event names matched nothing anyway).
--
-- Measured on the 1M-client panels database: the spread side 2.2 → 1.55 s, the owners' join
-- 0.9 → 0.67 s (docs/BENCHMARKS.md, 2026-12-05). No table and no materialized view: nothing
-- here stores a row, so nothing changes what the sink writes or --rebuild-rollups recomputes.

DROP TABLE IF EXISTS retention_cost_allocations;

CREATE VIEW IF NOT EXISTS retention_cost_allocations AS
SELECT owner_business_id, sector, cohort, currency, amount, cost_month
FROM
(
    SELECT
        if(client_id != '', o_owner, business_id) AS owner_business_id,
        if(client_id != '', o_sector, a_sector) AS sector,
        arrayJoin(if(client_id != '', [o_cohort], a_cohorts)) AS cohort,
        currency,
        total / toUInt64(if(client_id != '', 1, length(a_cohorts))) AS amount,
        cost_month
    FROM
    (
        SELECT *
        FROM
        (
            -- every event with the owner of the client it names (none for an event naming
            -- no client: no client id is '')
            SELECT
                event_id, client_id, business_id, currency, total, cost_month,
                if(client_id = '', business_id, '') AS spread_owner,
                o_owner, o_sector, o_cohort
            FROM
            (
                SELECT
                    event_id,
                    any(client_id) AS client_id,
                    any(business_id) AS business_id,
                    any(currency) AS currency,
                    any(amount) AS total,
                    toStartOfMonth(any(occurred_at)) AS cost_month
                FROM retention_costs
                GROUP BY event_id
            ) AS e
            ANY LEFT JOIN
            (
                -- (only the clients some event names: the hash table holds those, not every
                -- client)
                SELECT client_id, owner_business_id AS o_owner, sector AS o_sector, cohort AS o_cohort
                FROM client_owners
                WHERE client_id IN (SELECT client_id FROM retention_costs)
            ) AS o USING (client_id)
        ) AS eo
        ANY LEFT JOIN
        (
            -- per (business, month) of an event naming no client, the sector and the cohorts
            -- of the business's clients active at some instant of the month, one element per
            -- client: a client is active in month M iff one of its purchase instants t has
            -- M start - window <= t <= M end, tested once per client and event month of its
            -- owner (no expansion of every purchase into months, no dedup per client)
            SELECT
                spread_owner,
                cost_month,
                any(sector) AS a_sector,
                groupArray(cohort) AS a_cohorts
            FROM
            (
                SELECT spread_owner, sector, cohort, cost_month
                FROM
                (
                    SELECT
                        spread_owner, sector, cohort, times, window_seconds,
                        arrayJoin(event_months) AS cost_month
                    FROM
                    (
                        SELECT client_id, times
                        FROM client_purchase_times
                        WHERE client_id IN
                        (
                            SELECT client_id
                            FROM client_owners
                            WHERE owner_business_id IN (SELECT business_id FROM retention_costs WHERE client_id = '')
                        )
                    ) AS pt
                    ALL INNER JOIN
                    (
                        SELECT
                            client_id, spread_owner, sector, cohort,
                            toUInt32(activity_window_days) * 86400 AS window_seconds,
                            event_months
                        FROM
                        (
                            SELECT client_id, owner_business_id AS spread_owner, sector, cohort, activity_window_days
                            FROM client_owners
                            WHERE owner_business_id IN (SELECT business_id FROM retention_costs WHERE client_id = '')
                        ) AS co
                        ALL INNER JOIN
                        (
                            -- the months of each business's events naming no client
                            SELECT business_id AS spread_owner, groupUniqArray(toStartOfMonth(occurred_at)) AS event_months
                            FROM retention_costs
                            WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                            GROUP BY business_id
                        ) AS em USING (spread_owner)
                    ) AS o USING (client_id)
                )
                -- replicate, not a captured column: 18.16 drops a column a lambda only
                -- captures from what it reads of a subquery ("Unknown identifier")
                WHERE arrayExists((t, lo, hi) -> t >= lo AND t <= hi, times,
                    replicate(toDateTime(cost_month, 'UTC') - window_seconds, times),
                    replicate(toDateTime(addMonths(cost_month, 1), 'UTC') - 1, times))
            )
            GROUP BY spread_owner, cost_month
        ) AS a USING (spread_owner, cost_month)
    ) AS ea
    -- an event naming a client needs its owner, one naming none an active client
    WHERE client_id != '' ? o_owner != '' : notEmpty(a_cohorts)
) AS allocated;
