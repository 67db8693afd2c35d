-- 0142_client_activity_intervals: client_activity_months testing each month against the
-- client's activity intervals instead of against every purchase.
--
-- A client is active at instant X iff one of its purchase seconds t has X - window <= t <= X
-- (0132, SPEC §3). 0137 tested that twice per (client, month), at the month's first and last
-- second, with arrayExists over all of the client's purchase seconds. Here the sorted seconds
-- are first cut, once per client, into runs in which each second follows the previous one by
-- at most the window: a run's purchases keep the client active without a break from its first
-- second s to its last second l plus the window, and a later run begins after such a break.
-- So the client is active at X iff some run has s <= X and X - window <= l. (If the run's
-- largest second t <= X is l, then X - window <= l = t <= X; otherwise the next second t' > X
-- follows t by at most the window, so t >= t' - window > X - window. Conversely t of the
-- rule lies in some run: s <= t <= X and X - window <= t <= l.) Each month tests the runs (one
-- or two for most clients) instead of every purchase (seven on average at 1M clients).
--
-- Same rows as 0137: count and a hash of every column equal at 100k and 1M clients, and the
-- two tests agreed on 2,000,000 random cases of small integer seconds with repeats, windows
-- and instants before, inside and after them (docs/BENCHMARKS.md, 2026-12-07). Measured at
-- 1M clients: both flags counted 3.42-3.64 → 2.93-3.14 s. No table and no materialized view:
-- nothing here stores a row, so nothing changes what the sink writes or --rebuild-rollups
-- recomputes.
--
-- The runs are the view client_purchase_runs, the one place they are cut (0143's
-- client_activity_runs reads them too).

-- client_purchase_runs: per client with a referral owner and a purchase, the owner's columns,
-- the activity window in seconds, the first and last purchase second, and the runs of its
-- purchase seconds: starts and lasts, each run's first and last second, in order.
CREATE VIEW IF NOT EXISTS client_purchase_runs AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    window_seconds,
    first_at,
    last_at,
    -- opens: the second begins a run (the first, or more than the window after the previous
    -- one)
    arrayMap((d, i, w) -> i = 1 OR d > w, arrayDifference(arrayMap(t -> toInt64(t), times)),
        arrayEnumerate(times), replicate(toInt64(window_seconds), times)) AS opens,
    arrayFilter((t, f) -> f, times, opens) AS starts,
    arrayFilter((t, f) -> f, times, arrayPushBack(arrayPopFront(opens), 1)) AS lasts
FROM
(
    SELECT client_id, times, first_at, last_at
    FROM client_purchase_times
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
) AS o USING (client_id);

DROP TABLE IF EXISTS client_activity_months;

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
    arrayExists((s, l, x, xw) -> s <= x AND xw <= l, starts, lasts,
        replicate(month_start, starts), replicate(month_start - window_seconds, starts)) AS starts_active,
    arrayExists((s, l, x, xw) -> s <= x AND xw <= l, starts, lasts,
        replicate(month_end, starts), replicate(month_end - window_seconds, starts)) AS ends_active
FROM
(
    SELECT
        client_id, owner_business_id, owned_since, cohort, sector, window_seconds, starts, lasts,
        month,
        toDateTime(month, 'UTC') AS month_start,
        toDateTime(addMonths(month, 1), 'UTC') - 1 AS month_end
    FROM
    (
        SELECT
            client_id, owner_business_id, owned_since, cohort, sector, window_seconds, starts, lasts,
            toStartOfMonth(first_at) AS first_month,
            addMonths(toStartOfMonth(last_at + window_seconds), 1) AS last_month
        FROM client_purchase_runs
    )
    ARRAY JOIN arrayMap(i -> addMonths(first_month, i),
        range(toUInt64(dateDiff('month', first_month, last_month) + 1))) AS month
) AS client_month;
