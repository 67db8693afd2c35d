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
