-- 0138_cost_allocations_one_stream: retention_cost_allocations without a UNION ALL.
--
-- 0133's view was a UNION ALL of two branches, each joining subqueries over client_owners
-- (the costs naming a client, and the spread of those naming none). 18.16 runs the branches
-- of a union on parallel threads, and two branches that each analyse their subqueries at once
-- race on the query's shared sample-block cache: a query over such a union can spin forever,
-- unaffected by KILL QUERY, until the server restarts (docs/BENCHMARKS.md, 2026-12-04: seen
-- on a two-branch candidate of 0138 that was withdrawn, and one read of 0133's view ran over
-- 12 minutes). Here both kinds of cost go through one chain of joins, so nothing of this view
-- is analysed on two threads at once; the GROUP BYs and reads inside it stay parallel.
--
-- No table and no materialized view: nothing here stores a row, so nothing here changes what
-- the sink writes, what --rebuild-rollups recomputes or what can double count.
--
-- Same rows as 0133 (see there and 0132, the one place retention spend is allocated). Each
-- event, once per event_id, is joined (ANY LEFT: client_owners holds one row per client) to
-- the owner of the client it names, and then (ANY LEFT) to one row per (business, month)
-- holding the cohorts of the business's clients active that month. The second join's key is
-- the business only for an event naming no client and '' otherwise, which no business id is
-- (R8 refuses an empty id), so each event meets exactly the side its kind uses: an event
-- naming a client keeps its whole amount for that client's owner, sector and cohort, one
-- naming none gives total / n to each of the n active clients, and either is dropped when
-- its side found nothing (no owner; no active client), as the INNER JOINs of 0133 dropped it.
-- The divisor is 1 for an event naming a client: `if` evaluates both branches, and a Decimal
-- division by 0 throws even where its result is not taken.
--
-- The last purchase of each (client, month) of those businesses' clients comes from
-- client_purchase_times (0137: each client's purchase seconds, merged in the array after a
-- parallel GROUP BY) instead of a GROUP BY over purchase_instants, whose FINAL read is one
-- stream on 18.16: the same seconds (merged purchases > 0), so the same last one per month,
-- 1.2 s less at 1M clients (docs/BENCHMARKS.md, 2026-12-04 22:40). This version replaced
-- the first one of this file before the session that wrote both ended (superseded.txt).

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
                SELECT client_id, owner_business_id AS o_owner, sector AS o_sector, cohort AS o_cohort
                FROM client_owners
            ) AS o USING (client_id)
        ) AS eo
        ANY LEFT JOIN
        (
            -- per (business, month) of an event naming no client, the sector and the cohorts
            -- of the business's clients active during the month, one element per client
            SELECT
                owner_business_id AS spread_owner,
                cost_month,
                any(sector) AS a_sector,
                groupArray(cohort) AS a_cohorts
            FROM
            (
                -- (owner, month, client): as in 0133. A purchase at t makes its client active
                -- in the months of t .. t + window; per client and month the last purchase
                -- reaches furthest, so the last instants alone give every such month. Only
                -- the businesses and months of events naming no client are kept.
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
                        -- per (client, month) the last purchase: the last of the client's
                        -- sorted seconds in each month (the month changes after it)
                        SELECT client_id, month, last_at
                        FROM
                        (
                            SELECT
                                client_id,
                                times,
                                arrayMap(t -> toStartOfMonth(t), times) AS months,
                                arrayMap((m, n) -> m != n, months, arrayPushBack(arrayPopFront(months), toDate('1970-01-01'))) AS ends
                            FROM client_purchase_times
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
                        ) AS pt
                        ARRAY JOIN arrayFilter((m, e) -> e, months, ends) AS month, arrayFilter((t, e) -> e, times, ends) AS last_at
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
            )
            GROUP BY spread_owner, cost_month
        ) AS a USING (spread_owner, cost_month)
    ) AS ea
    -- an event naming a client needs its owner, one naming none an active client
    WHERE client_id != '' ? o_owner != '' : notEmpty(a_cohorts)
) AS allocated;
