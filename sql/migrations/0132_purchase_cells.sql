-- 0132_purchase_cells: plain views the query pack shares over the purchase rollups of 0131,
-- reading their cells with FINAL instead of re-aggregating them with a multi-column GROUP BY.
--
-- No table and no materialized view: nothing here stores a row, so nothing here changes what
-- the sink writes, what --rebuild-rollups recomputes or what can double count.
--
-- FINAL on a SummingMergeTree merges the parts' rows of each sorting key at read time, exactly
-- as a background merge would: per cell the sums of all its rows, a cell whose sums are all
-- zero left out. That is the GROUP BY over the whole key that purchase_months and the pack ran
-- (a sorted merge of parts instead of a hash table keyed by four or five columns: 2-4x
-- cheaper on 18.16). A filter on a summed column stays outside the FINAL read (a subquery), so
-- it sees the merged sums.
--
-- Exactness beyond 0131's argument. A cell of purchase_months_rollup whose purchases sum to 0
-- holds only bookings that are not purchases now (each booking sums to 0 or 1 purchase), and
-- the ledger's judgement of a booking that is not a purchase has no amount, no refunds and no
-- net commission for any owner (0130: a cancellation subtracts what the completion added and
-- the refunds so far, and reverses what the owner kept; nothing follows a cancellation; an
-- ownership correction reverses the old owner's entries). So such a cell sums to zero in every
-- column and FINAL leaves it out, and every cell FINAL returns either has purchases > 0 (a
-- purchase row, commission_owner = '') or is a commission row of such a cell. Summing these
-- rows per any grouping of (client, month, currency, provider) gives what purchase_months'
-- cells with purchases > 0 give; purchase_months relied on the same judgement for a cell that
-- mixes a cancelled booking with a live one. Which client-months have a purchase is decided by
-- the rows with purchases > 0 alone, so counts of clients never depend on it.
-- docs/DESIGN.md, "Rollups", "Cells read with FINAL".

-- purchase_cells: every cell of purchase_months_rollup (merged by FINAL) of a client with a
-- referral owner, with the owner's columns: purchase rows (commission_owner = '': purchases,
-- net_value) and commission rows (commission is the entry owner's sum when that owner is the
-- client's CURRENT owner, else 0; purchases and net_value 0). direct = 1 when the provider is
-- the current owner. Summed over any grouping, the figures of purchase_months; a client has a
-- purchase in a month iff it has a row of that month with purchases > 0.
CREATE VIEW IF NOT EXISTS purchase_cells AS
SELECT
    client_id,
    month,
    currency,
    provider_business_id,
    purchases,
    amount - refunded AS net_value,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days,
    provider_business_id = owner_business_id AS direct,
    if(commission_owner = owner_business_id, commission, toDecimal128(0, 4)) AS commission
FROM
(
    SELECT client_id, month, currency, provider_business_id, commission_owner, purchases, amount, refunded, commission
    FROM purchase_months_rollup FINAL
) AS cells
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
    FROM client_owners
) AS rhs USING (client_id);

-- purchase_instants: every second with purchases of purchase_times_rollup (merged by FINAL),
-- with their number; clients without an owner included (joined where needed).
CREATE VIEW IF NOT EXISTS purchase_instants AS
SELECT client_id, completed_at, purchases
FROM
(
    SELECT client_id, completed_at, purchases
    FROM purchase_times_rollup FINAL
) AS instants
WHERE purchases > 0;

-- client_months: per client with a referral owner and a purchase, the sorted months with a
-- purchase (any currency or provider), with the owner's columns: the lifespans of order_metrics
-- and net_clv (grouped per client first, joined to one owner row per client).
CREATE VIEW IF NOT EXISTS client_months AS
SELECT client_id, months, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT client_id, arraySort(groupUniqArray(month)) AS months
    FROM
    (
        SELECT client_id, month, purchases
        FROM purchase_months_rollup FINAL
    ) AS cells
    WHERE purchases > 0
    GROUP BY client_id
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_id);

-- client_activity_months: per client with a referral owner and a purchase, and per month from
-- the month of its first purchase to the last month whose first or last instant a purchase can
-- make active (the month after that of last purchase + window): whether the client is active
-- at the month's first instant (a purchase in [month start - window, month start]) and at its
-- last second ([month end - window, month end]), and whether its ownership was established in
-- the month; with the owner's columns. The window is the client's owner's sector's activity
-- window in whole seconds. A month outside every purchase's reach is active at neither end and
-- has no row. Shared by churn_ltv, retention_rate and cac_ltv (each filters by {until} and
-- scope itself). Every purchase instant of the client is tested: a window holds a purchase iff
-- it holds one of them.
CREATE VIEW IF NOT EXISTS client_activity_months AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    month,
    owned_since >= month_start AND owned_since <= month_end AS established,
    -- replicate, not a captured column: 18.16 drops a column a lambda only captures from
    -- what it reads of a subquery ("Unknown identifier")
    arrayExists((t, lo, hi) -> t >= lo AND t <= hi, times,
        replicate(month_start - window_seconds, times), replicate(month_start, times)) AS starts_active,
    arrayExists((t, lo, hi) -> t >= lo AND t <= hi, times,
        replicate(month_end - window_seconds, times), replicate(month_end, times)) AS ends_active
FROM
(
    SELECT
        client_id,
        owner_business_id,
        owned_since,
        cohort,
        sector,
        window_seconds,
        times,
        month,
        toDateTime(month, 'UTC') AS month_start,
        toDateTime(addMonths(month, 1), 'UTC') - 1 AS month_end
    FROM
    (
        SELECT
            client_id,
            owner_business_id,
            owned_since,
            cohort,
            sector,
            window_seconds,
            times,
            toStartOfMonth(first_at) AS first_month,
            addMonths(toStartOfMonth(last_at + window_seconds), 1) AS last_month
        FROM
        (
            SELECT client_id, groupArray(completed_at) AS times, min(completed_at) AS first_at, max(completed_at) AS last_at
            FROM purchase_instants
            GROUP BY client_id
        ) AS t
        ALL INNER JOIN
        (
            SELECT
                client_id,
                owner_business_id,
                owned_since,
                cohort,
                sector,
                toUInt32(activity_window_days) * 86400 AS window_seconds
            FROM client_owners
        ) AS o USING (client_id)
    )
    ARRAY JOIN arrayMap(i -> addMonths(first_month, i),
        range(toUInt64(dateDiff('month', first_month, last_month) + 1))) AS month
) AS client_month;

-- acquisition_spend: every acquisition-costs event once (by event_id), in the month of its
-- occurred_at, with the current sector of the business that spent it (business_profiles;
-- empty when the business is unknown). cac_ltv and order_metrics sum it.
CREATE VIEW IF NOT EXISTS acquisition_spend AS
SELECT event_id, business_id, currency, amount, spend_month, sector
FROM
(
    SELECT
        event_id,
        any(business_id) AS business_id,
        any(currency) AS currency,
        any(amount) AS amount,
        toStartOfMonth(any(occurred_at)) AS spend_month
    FROM acquisition_costs
    GROUP BY event_id
) AS lhs
ANY LEFT JOIN (SELECT business_id, sector FROM business_profiles) AS rhs USING (business_id);

-- acquisition_spend_of_new_clients: every acquisition-costs event (once per event_id) of a
-- (business, month) in which the business established at least one client, with that
-- business's sector: the acquisition cost of net_clv and predicted_net_clv (all clients a
-- business established in a month share its CAC of that month, so the cohort CAC summed
-- over them is this spend). Spend in a month without a new client is nobody's.
CREATE VIEW IF NOT EXISTS acquisition_spend_of_new_clients AS
SELECT event_id, business_id, currency, amount, spend_month, sector
FROM
(
    SELECT *
    FROM
    (
        SELECT
            event_id,
            any(business_id) AS business_id,
            any(currency) AS currency,
            any(amount) AS amount,
            toStartOfMonth(any(occurred_at)) AS spend_month
        FROM acquisition_costs
        GROUP BY event_id
    ) AS s
    ALL INNER JOIN
    (
        -- (business, month) pairs in which the business established a client
        SELECT owner_business_id AS business_id, cohort AS spend_month, any(sector) AS sector
        FROM client_owners
        GROUP BY business_id, spend_month
    ) AS c USING (business_id, spend_month)
) AS sc;

-- retention_cost_allocations: every retention-costs event (once per event_id), allocated to
-- clients, with the client's current owner, sector and cohort, in the event's month: an
-- event naming a client with a referral owner is that client's (whichever business spent
-- it); an event naming no client is spread evenly, amount / n truncated to 4 decimals, over
-- the n clients owned by the spending business who were active at some instant of the
-- event's month (a purchase with month start - window <= purchase time <= month end); an
-- event naming a client nobody owns, or of a business with no such client, has no row. The
-- one place retention spend is allocated (net_clv and predicted_net_clv sum it to date).
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
                        SELECT client_id, toStartOfMonth(completed_at) AS month, max(completed_at) AS last_at
                        FROM purchase_instants
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
