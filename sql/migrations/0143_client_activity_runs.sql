-- 0143_client_activity_runs: each client's runs of purchases as ranges of months, for the
-- panels that count active clients per month without a row per client and month.
--
-- A client is active at instant X iff one of its purchase seconds t has X - window <= t <= X
-- (0132). 0142's client_purchase_runs cuts the client's sorted seconds into runs, each second
-- at most the window after the previous one; a run keeps its client active without a break from its first
-- second s to its last second l plus the window, and the spans of a client's runs are
-- disjoint and in order. Per run:
--
-- - start_from .. start_to: the months whose first second the span covers (the month of s, or
--   the next one when s is not a month's first second, to the month of l + window; empty when
--   start_from > start_to);
-- - end_from .. end_to: the months whose last second the span covers (the month of s to the
--   month before that of l + window + 1 second);
-- - carried: start_to's last second is not covered by this run (its span ends inside the
--   month) but by a later one, so that month is active at its first and at its last second.
--
-- Because the spans are disjoint, each month's first second lies in at most one run's
-- start range and its last second in at most one run's end range: a panel counts a month once
-- per client by summing +1 at each range's first month and -1 after its last. A month active
-- at both its first and its last second is either in start_from .. end_to of one run or the
-- carried start_to of one run (its first second in that run's span, its last in a later
-- one's), never both. retention_rate, churn_ltv and cac_ltv read these ranges
-- (docs/DESIGN.md, "Activity as run ranges (0143)").
--
-- No table and no materialized view: nothing here stores a row, so nothing changes what the
-- sink writes or --rebuild-rollups recomputes.
CREATE VIEW IF NOT EXISTS client_activity_runs AS
SELECT
    client_id,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    start_from,
    start_to,
    end_from,
    end_to,
    start_from <= start_to AND start_to > end_to
        -- replicate, not a captured column: 18.16 drops a column a lambda only captures from
        -- what it reads of a subquery ("Unknown identifier")
        AND arrayExists((s, l, x, xw) -> s <= x AND xw <= l, starts, lasts,
            replicate(start_to_end, starts), replicate(start_to_end - window_seconds, starts)) AS carried
FROM
(
    SELECT
        client_id,
        owner_business_id,
        owned_since,
        cohort,
        sector,
        starts,
        lasts,
        window_seconds,
        if(run_start = toDateTime(toStartOfMonth(run_start), 'UTC'),
           toStartOfMonth(run_start), addMonths(toStartOfMonth(run_start), 1)) AS start_from,
        toStartOfMonth(run_last + window_seconds) AS start_to,
        toStartOfMonth(run_start) AS end_from,
        addMonths(toStartOfMonth(run_last + window_seconds + 1), -1) AS end_to,
        toDateTime(addMonths(start_to, 1), 'UTC') - 1 AS start_to_end
    FROM client_purchase_runs
    ARRAY JOIN starts AS run_start, lasts AS run_last
) AS runs;
