-- 0137_client_arrays_unmerged: the per-client arrays of the query pack merged in the array,
-- not by a FINAL read.
--
-- client_months (0135) and client_activity_months (0132, through purchase_instants) read a
-- rollup with FINAL and then grouped the merged cells per client. On 18.16 a FINAL read is one
-- merging stream, so the GROUP BY above it ran on one thread: at 1M clients the months per
-- client took 1.1-1.5 s and the purchase instants per client 1.7-2.2 s, of which the GROUP BY
-- without FINAL is 0.3-0.5 s. Here each client's unmerged rows are gathered by a parallel
-- GROUP BY into one array of (key, purchases) pairs and merged inside it: sorted, every key's
-- rows are adjacent, so the running sum of purchases at a key's last row minus the running
-- sum at the previous key's last row is the key's merged sum (docs/BENCHMARKS.md, 2026-12-03
-- "per-client arrays merged in the array").
--
-- No table and no materialized view: nothing here stores a row, so nothing here changes what
-- the sink writes, what --rebuild-rollups recomputes or what can double count.
--
-- Exactness: a key's merged sum is the sum of all its rows in every part, which is what FINAL
-- (or a background merge) computes, whatever the parts hold; a key whose rows sum to 0 is
-- dropped here as FINAL drops it. Every cell sums to >= 0 purchases (0135, 0131), so a key is
-- kept iff it holds a purchase now, as the FINAL readers decided with purchases > 0. The
-- sentinel after the last element (the last key + 1, which differs from it in any type's
-- arithmetic) only marks the last element as the end of its run. Lambdas take every array as
-- an argument: 18.16 drops a column a lambda only captures ("Unknown identifier").

-- client_purchase_times: per client with a purchase (owner or not), its purchase seconds in
-- ascending order and the purchases of each (purchase_times_rollup's merged cells with
-- purchases > 0, the rows of purchase_instants), and the first and last of them.
CREATE VIEW IF NOT EXISTS client_purchase_times AS
SELECT client_id, times, counts, times[1] AS first_at, times[-1] AS last_at
FROM
(
    SELECT
        client_id,
        arrayFilter((t, n) -> n > 0, run_keys, run_sums) AS times,
        arrayFilter(n -> n > 0, run_sums) AS counts
    FROM
    (
        SELECT
            client_id,
            arrayFilter((t, e) -> e, keys, ends) AS run_keys,
            arrayPopFront(arrayDifference(arrayPushFront(arrayFilter((c, e) -> e, arrayCumSum(ns), ends), toInt64(0)))) AS run_sums
        FROM
        (
            SELECT
                client_id,
                arrayMap(r -> tupleElement(r, 1), rows) AS keys,
                arrayMap(r -> tupleElement(r, 2), rows) AS ns,
                arrayMap((t, u) -> t != u, keys, arrayPushBack(arrayPopFront(keys), keys[-1] + 1)) AS ends
            FROM
            (
                SELECT client_id, arraySort(groupArray((completed_at, purchases))) AS rows
                FROM purchase_times_rollup
                GROUP BY client_id
            ) AS grouped
        ) AS runs
    ) AS merged
) AS kept
WHERE notEmpty(times);

-- client_months: as in 0135, per client with a referral owner and a purchase, its months with a
-- purchase in ascending order, with the owner's columns; the months merged as above from
-- client_months_rollup.
DROP TABLE IF EXISTS client_months;

CREATE VIEW IF NOT EXISTS client_months AS
SELECT client_id, months, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT client_id, months
    FROM
    (
        SELECT
            client_id,
            arrayFilter((m, n) -> n > 0, run_keys, run_sums) AS months
        FROM
        (
            SELECT
                client_id,
                arrayFilter((m, e) -> e, keys, ends) AS run_keys,
                arrayPopFront(arrayDifference(arrayPushFront(arrayFilter((c, e) -> e, arrayCumSum(ns), ends), toInt64(0)))) AS run_sums
            FROM
            (
                SELECT
                    client_id,
                    arrayMap(r -> tupleElement(r, 1), rows) AS keys,
                    arrayMap(r -> tupleElement(r, 2), rows) AS ns,
                    arrayMap((m, u) -> m != u, keys, arrayPushBack(arrayPopFront(keys), keys[-1] + 1)) AS ends
                FROM
                (
                    SELECT client_id, arraySort(groupArray((month, purchases))) AS rows
                    FROM client_months_rollup
                    GROUP BY client_id
                ) AS grouped
            ) AS runs
        ) AS merged
    ) AS kept
    WHERE notEmpty(months)
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_id);

-- client_activity_months: as in 0132 (see there for what each column means), the purchase
-- instants of each client now from client_purchase_times, merged in the array.
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
        ) AS o USING (client_id)
    )
    ARRAY JOIN arrayMap(i -> addMonths(first_month, i),
        range(toUInt64(dateDiff('month', first_month, last_month) + 1))) AS month
) AS client_month;
