-- 0141_client_arrays_sorted_apart: the per-client arrays of 0137 gathered as two plain arrays
-- and sorted apart, instead of one array of (key, purchases) tuples unpacked after its sort.
--
-- client_purchase_times and client_months merge each client's unmerged rollup rows in the
-- array (0137 says how, and why that is exact). 0137 gathered the rows as tuples, sorted them
-- and unpacked the keys and the purchases with two arrayMap calls; each lambda call over every
-- client's array costs 18.16 a column per step. Here the keys and the purchases are gathered by
-- two groupArray calls of one GROUP BY (the same rows in the same order), the keys sorted with
-- arraySort and the purchases with arraySort((n, k) -> k, …): both in key order, so every key's
-- rows are adjacent in both, and the run sums are 0137's (rows of one key may come in another
-- order among themselves; a run's sum does not depend on it). The rest of the chain, the
-- kept keys and the columns are 0137's.
--
-- Measured on the 1M-client panels database (docs/BENCHMARKS.md, 2026-12-07): the purchase
-- times per client 1.84-2.41 → 1.47-1.61 s, the months per client 1.00-1.07 → 0.86-0.90 s;
-- the same rows (a hash of every row equal, also on a copy with a seventh of the rows negated
-- and others added in parts of their own). No table and no materialized view: nothing here
-- stores a row, so nothing changes what the sink writes or --rebuild-rollups recomputes.

DROP TABLE IF EXISTS client_purchase_times;

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
                arraySort(row_keys) AS keys,
                arraySort((n, t) -> t, row_ns, row_keys) AS ns,
                arrayMap((t, u) -> t != u, keys, arrayPushBack(arrayPopFront(keys), keys[-1] + 1)) AS ends
            FROM
            (
                SELECT client_id, groupArray(completed_at) AS row_keys, groupArray(purchases) AS row_ns
                FROM purchase_times_rollup
                GROUP BY client_id
            ) AS grouped
        ) AS runs
    ) AS merged
) AS kept
WHERE notEmpty(times);

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
                    arraySort(row_keys) AS keys,
                    arraySort((n, m) -> m, row_ns, row_keys) AS ns,
                    arrayMap((m, u) -> m != u, keys, arrayPushBack(arrayPopFront(keys), keys[-1] + 1)) AS ends
                FROM
                (
                    SELECT client_id, groupArray(month) AS row_keys, groupArray(purchases) AS row_ns
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
