-- views.sql: every plain view of the analytics schema, each defined once, as it is now.
--
-- The numbered migrations hold what stores rows: tables, materialized views and backfills,
-- applied once each, in version order, and never edited. Plain views store nothing, so they
-- are not history: this file holds each one's current definition, in creation order (a view
-- after the views it reads), and `taskole migrate` applies it after the numbered files
-- whenever its checksum is not the one last recorded: each view is dropped and re-created, in
-- file order (consumers/runners/migrate, "The views file"). Change a view here, in place; a
-- change that needs a new table, materialized view or backfill is a numbered migration, and
-- a view the file no longer defines is dropped by a numbered migration. Only
-- `CREATE VIEW IF NOT EXISTS` statements belong here (Load refuses any other).
--
-- A number in the comments (0132, 0141, ...) names the change that introduced or rewrote a
-- view, before views lived here (retired.txt lists those files): docs/DESIGN.md gives its
-- reasoning, docs/BENCHMARKS.md its measurements, git its earlier text. The sections below
-- keep the headers of the retired files, before the views they defined last.
--
-- Joins by client key. The views that join every client's rows to client_owners
-- (purchase_cells_unmerged, client_month_purchases, client_months, client_purchase_runs)
-- join by client_key = cityHash64(client_id) and then keep the rows whose ids are equal: a
-- UInt64 key builds and probes the 1M-client hash table faster than a String key on 18.16
-- (3-6% of most panels at 1M clients, docs/BENCHMARKS.md, 2026-12-07 17:27-17:44). Exact:
-- equal ids have equal keys, so the ALL INNER JOIN by key holds every pair the join by
-- client_id holds, and the WHERE drops a pair of different ids whose keys collide; the rows
-- are those of the join by client_id.

-- business_profiles: one row per business, its current name and sector and the activity
-- window of that sector.
CREATE VIEW IF NOT EXISTS business_profiles AS
SELECT
    business_id,
    name,
    sector,
    if(window_days = 0, 60, window_days) AS activity_window_days
FROM
(
    SELECT
        business_id,
        argMax(name, (occurred_at, occurred_at_ns, event_id)) AS name,
        argMax(sector, (occurred_at, occurred_at_ns, event_id)) AS sector
    FROM businesses
    GROUP BY business_id
) AS lhs
ANY LEFT JOIN
(
    SELECT sector, argMax(activity_window_days, updated_at) AS window_days
    FROM sector_settings
    GROUP BY sector
) AS rhs USING (sector);

-- ----------------------------------------------------------------------------------------------
-- 0102_ledger_refused: booking and enrollment events the ledger refused do not count.
--
-- The ledger dead-letters input events that decode but break its rules (a refund beyond what
-- is left or in another currency, an impossible transition, an event after cancelled, a
-- record keyed by another client, ...). The sink cannot tell: such a record decodes, so it is
-- stored in the raw table like any other; the ledger's dead letter, which names the original
-- record (source_topic, source_partition, source_offset), is stored in dlq with
-- consumer = 'ledger'. The accepted_* views below are the raw input tables without those
-- records; the facts read them, so a refused refund never lowers a purchase's net value, a
-- refused completion never makes a purchase and a refused enrollment is never a rejected
-- claim. Dead letters of other consumers (the sink's own, payouts') are not refusals of
-- input events and are not consulted.
--
-- Anti-join by the record's position, not by event_id: a refused event's event_id may also
-- belong to an accepted delivery (the ledger judges each record), and positions are what a
-- dead letter names. dlq's source columns are signed (Kafka's types); the raw tables'
-- are unsigned, hence the casts (partitions and offsets are never negative).
--
-- purchases (0100) reads accepted_bookings; its definition is otherwise 0100's.

CREATE VIEW IF NOT EXISTS accepted_bookings AS
SELECT *
FROM bookings
WHERE (_topic, _partition, _offset) NOT IN
(
    SELECT source_topic, toUInt32(source_partition), toUInt64(source_offset)
    FROM dlq
    WHERE consumer = 'ledger'
);

CREATE VIEW IF NOT EXISTS accepted_enrollments AS
SELECT *
FROM enrollments
WHERE (_topic, _partition, _offset) NOT IN
(
    SELECT source_topic, toUInt32(source_partition), toUInt64(source_offset)
    FROM dlq
    WHERE consumer = 'ledger'
);

-- client_owners: one row per client with a referral owner: the owner, when and how ownership
-- was established, the cohort (calendar month of owned_since, UTC), the owner's sector and
-- its activity window (60 days when the owner or its sector is unknown).
--
-- client_owners: as in 0100 (see there: the columns, the cohort, the sector and its activity
-- window), over current_owners FINAL instead of the argMax GROUP BY over referral_owners.
-- The sector stays a query-time join: a businesses event rewrites it for all of the past.
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

-- purchases: one row per purchase (SPEC §3: a booking that reached completed and was not
-- cancelled afterwards) of a client with a known owner. Its time is the completed event's
-- occurred_at, its net value the completed amount minus the booking's refunds. direct = 1
-- when the provider is the client's owner. commission is what the client's CURRENT owner
-- keeps from it on the ledger (accruals plus reversals, deduplicated by commission_id); a
-- previous owner's entries for it net to zero after an ownership correction and are ignored.
-- Purchases of clients without a referral_owners row yet (ledger lag) are left out.
--
-- purchases: as in 0100 (see there), over accepted_bookings.
CREATE VIEW IF NOT EXISTS purchases AS
SELECT
    booking_id,
    client_id,
    provider_business_id,
    completed_at,
    toStartOfMonth(completed_at) AS month,
    currency,
    amount,
    refunded,
    amount - refunded AS net_value,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days,
    provider_business_id = owner_business_id AS direct,
    commission
FROM
(
    SELECT *
    FROM
    (
        SELECT
            booking_id,
            argMinIf(client_id, (occurred_at, occurred_at_ns), status = 'completed') AS client_id,
            argMinIf(business_id, (occurred_at, occurred_at_ns), status = 'completed') AS provider_business_id,
            minIf(occurred_at, status = 'completed') AS completed_at,
            argMinIf(currency, (occurred_at, occurred_at_ns), status = 'completed') AS currency,
            argMinIf(amount, (occurred_at, occurred_at_ns), status = 'completed') AS amount,
            sumIf(refund_amount, status = 'refunded') AS refunded
        FROM
        (
            SELECT
                event_id,
                any(booking_id) AS booking_id,
                any(client_id) AS client_id,
                any(business_id) AS business_id,
                any(status) AS status,
                any(amount) AS amount,
                any(currency) AS currency,
                any(refund_amount) AS refund_amount,
                any(occurred_at) AS occurred_at,
                any(occurred_at_ns) AS occurred_at_ns
            FROM accepted_bookings
            GROUP BY event_id
        )
        GROUP BY booking_id
        HAVING countIf(status = 'completed') > 0 AND countIf(status = 'cancelled') = 0
    ) AS lhs
    ALL INNER JOIN
    (
        SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
        FROM client_owners
    ) AS rhs USING (client_id)
) AS lhs
ANY LEFT JOIN
(
    SELECT booking_id, owner_business_id, sum(amount) AS commission
    FROM
    (
        SELECT
            commission_id,
            any(booking_id) AS booking_id,
            any(owner_business_id) AS owner_business_id,
            any(amount) AS amount
        FROM commissions
        GROUP BY commission_id
    )
    GROUP BY booking_id, owner_business_id
) AS rhs USING (booking_id, owner_business_id);

-- purchase_months: one row per client × month × currency × provider with at least one
-- purchase, for clients with a referral owner (inner join: purchases of clients without a
-- referral_owners row yet are left out, as in the purchases view). purchases counts them;
-- amount, refunded and net_value sum them; commission is what the client's CURRENT owner
-- keeps from them (its entries only; a previous owner's net to zero after a correction);
-- direct = 1 when the provider is that owner. The same figures, summed, as the purchases view
-- of 0100/0102 gives over the raw tables.
CREATE VIEW IF NOT EXISTS purchase_months AS
SELECT
    client_id,
    provider_business_id,
    month,
    currency,
    toUInt64(n) AS purchases,
    gross AS amount,
    refunds AS refunded,
    gross - refunds AS net_value,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days,
    provider_business_id = owner_business_id AS direct,
    kept AS commission
FROM
(
    SELECT
        client_id,
        month,
        currency,
        provider_business_id,
        sum(purchases) AS n,
        sum(amount) AS gross,
        sum(refunded) AS refunds,
        sumIf(commission, commission_owner = co_owner) AS kept,
        any(co_owner) AS owner_business_id,
        any(co_owned_since) AS owned_since,
        any(co_cohort) AS cohort,
        any(co_sector) AS sector,
        any(co_window) AS activity_window_days
    FROM purchase_months_rollup
    ALL INNER JOIN
    (
        SELECT
            client_id,
            owner_business_id AS co_owner,
            owned_since AS co_owned_since,
            cohort AS co_cohort,
            sector AS co_sector,
            activity_window_days AS co_window
        FROM client_owners
    ) AS rhs USING (client_id)
    GROUP BY client_id, month, currency, provider_business_id
    HAVING n > 0
) AS cells;

-- activity_instants: per client with a referral owner and month with a purchase, the first
-- and the last purchase instant of that month (one row when they coincide), with the owner's
-- columns. Enough for every activity window of the pack: a window [t - w, t] holds a purchase
-- iff it holds one of these instants (a purchase in an earlier month than t's implies that
-- month's last instant, which is still before t; one in t's month implies its first instant
-- when t is the month's first second and its last instant when t is the month's last second,
-- the only instants the pack asks about), and the months a purchase can make active start at
-- its month and end at a month its month's last instant reaches.
CREATE VIEW IF NOT EXISTS activity_instants AS
SELECT
    client_id,
    month,
    completed_at,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days
FROM
(
    SELECT client_id, month, arrayJoin(arrayDistinct([first_at, last_at])) AS completed_at
    FROM
    (
        SELECT client_id, toStartOfMonth(at) AS month, min(at) AS first_at, max(at) AS last_at
        FROM
        (
            SELECT client_id, completed_at AS at, sum(purchases) AS n
            FROM purchase_times_rollup
            GROUP BY client_id, completed_at
            HAVING n > 0
        )
        GROUP BY client_id, month
    )
) AS lhs
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
    FROM client_owners
) AS rhs USING (client_id);

-- ----------------------------------------------------------------------------------------------
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

-- ----------------------------------------------------------------------------------------------
-- 0134_purchase_cells_unmerged: the cells' sums without FINAL.
--
-- purchase_cells (0132) reads purchase_months_rollup FINAL, so that each row is a whole cell:
-- the panels that test a cell's own purchases (WHERE purchases > 0) need that. A panel that
-- only sums the cells over a grouping does not: a SummingMergeTree's unmerged rows of one key
-- sum to the merged row, so summing them gives the same totals whatever the merges have done,
-- and the single-threaded merge of FINAL (about 60% of the cells read at 100k clients) is
-- skipped.
--
-- The one test such panels make of purchases is "the group has a purchase", HAVING
-- max(purchases) > 0 over purchase_cells. Over the unmerged rows it is HAVING sum(purchases) >
-- 0: every cell's purchases is >= 0 (a booking adds +1 to the cell of its completion when it
-- becomes a purchase and -1 to that same cell if it is cancelled; 0130), so a group's sum is
-- > 0 iff one of its cells is. A group's count of buying clients (uniqExactIf(client_id,
-- purchases > 0)) does test single cells: those panels count buyers from client_months.
--
-- Same columns as purchase_cells; commission and direct are functions of a row's key columns
-- and of the client's current owner, so they are as linear as the sums. A plain view: nothing
-- stored, nothing to rebuild.

CREATE VIEW IF NOT EXISTS purchase_cells_unmerged AS
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
    SELECT cityHash64(client_id) AS client_key, client_id, month, currency, provider_business_id, commission_owner, purchases, amount, refunded, commission
    FROM purchase_months_rollup
) AS cells
ALL INNER JOIN
(
    SELECT cityHash64(client_id) AS client_key, client_id AS owner_client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
    FROM client_owners
) AS rhs USING (client_key)
-- (joins by client key: see the top of this file)
WHERE client_id = owner_client_id;

-- client_month_purchases: per client with a referral owner and month with a purchase (any
-- currency or provider), the number of purchases, with the owner's columns. The filter on the
-- summed column stays outside the FINAL read, so it sees merged sums (0132).
CREATE VIEW IF NOT EXISTS client_month_purchases AS
SELECT client_id, month, purchases, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT cityHash64(client_id) AS client_key, client_id, month, purchases
    FROM
    (
        SELECT client_id, month, purchases
        FROM client_months_rollup FINAL
    ) AS cells
    WHERE purchases > 0
) AS lhs
ALL INNER JOIN
(
    SELECT cityHash64(client_id) AS client_key, client_id AS owner_client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_key)
-- (joins by client key: see the top of this file)
WHERE client_id = owner_client_id;

-- ----------------------------------------------------------------------------------------------
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

-- ----------------------------------------------------------------------------------------------
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

-- client_months: per client with a referral owner and a purchase, the sorted months with a
-- purchase (any currency or provider), with the owner's columns: the lifespans of order_metrics
-- and net_clv (grouped per client first, joined to one owner row per client).
--
-- client_months: as in 0132 (see there), the months with a purchase taken from
-- purchase_instants (purchase_times_rollup FINAL, two key columns) instead of
-- purchase_months_rollup FINAL (five): a booking adds 0 or 1 purchase to the cell of its
-- completion second and to that of its month alike, so a month has a cell with purchases > 0
-- in one rollup iff it has one in the other.
--
-- client_months: as in 0133 (see there), the sorted months with a purchase, now from this
-- rollup: one merged cell per (client, month), > 0 iff the month holds a purchase, so the
-- months are the same.
--
-- client_months: as in 0135, per client with a referral owner and a purchase, its months with a
-- purchase in ascending order, with the owner's columns; the months merged as above from
-- client_months_rollup.
CREATE VIEW IF NOT EXISTS client_months AS
SELECT client_id, months, owner_business_id, owned_since, cohort, sector
FROM
(
    SELECT cityHash64(client_id) AS client_key, client_id, months
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
    SELECT cityHash64(client_id) AS client_key, client_id AS owner_client_id, owner_business_id, owned_since, cohort, sector
    FROM client_owners
) AS rhs USING (client_key)
-- (joins by client key: see the top of this file)
WHERE client_id = owner_client_id;

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

-- ----------------------------------------------------------------------------------------------
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

-- ----------------------------------------------------------------------------------------------
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

-- retention_cost_allocations: every retention-costs event (once per event_id), allocated to
-- clients, with the client's current owner, sector and cohort, in the event's month: an
-- event naming a client with a referral owner is that client's (whichever business spent
-- it); an event naming no client is spread evenly, amount / n truncated to 4 decimals, over
-- the n clients owned by the spending business who were active at some instant of the
-- event's month (a purchase with month start - window <= purchase time <= month end); an
-- event naming a client nobody owns, or of a business with no such client, has no row. The
-- one place retention spend is allocated (net_clv and predicted_net_clv sum it to date).
--
-- retention_cost_allocations: as in 0132 (see there: the one place retention spend is
-- allocated). 0133 grouped the spread's purchase instants only for the clients of businesses
-- with an event naming no client; since 0139 the spread reads client_purchase_times, which
-- 18.16 computes whole whatever the filter, and the INNER JOIN to those businesses' clients
-- keeps no other client, so no IN filter is applied to it (2026-12-08).
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
                        -- every client's: the INNER JOIN below keeps the spread owners'
                        -- clients. A client_id IN (those clients) here cost more than it
                        -- saved, since the view is computed whole before any filter (18.16
                        -- pushes no predicate into a view): 1.88-1.95 s for this view at 1M
                        -- clients without it, 2.18-2.37 s with it (docs/BENCHMARKS.md,
                        -- 2026-12-08 01:20)
                        SELECT client_id, times
                        FROM client_purchase_times
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

-- ----------------------------------------------------------------------------------------------
-- 0140_client_lifespan_months: client_lifespan_steps (0135) without its GROUP BY.
--
-- One row per (client, month with a purchase): the client's owner, sector and cohort, and the
-- months the month adds to the client's lifespan (1 in its first month with a purchase, then
-- the months since its previous one) and whether it is that first month; the rule and its
-- reading are 0135's (see there). order_metrics and net_clv group these rows by their own
-- scope and month: buyers = count(), lifespan months added = sum(added), new clients =
-- sum(first), the sums client_lifespan_steps held per (owner, sector, cohort, month).
-- Grouping once by the panel's (dim, month) instead of first by four String keys and then by
-- the scope saves 0.3 s of net_clv's and order_metrics' 1M-client read (docs/BENCHMARKS.md,
-- 2026-12-05). client_lifespan_steps stays for readers of it.
--
-- No table and no materialized view: nothing here stores a row, so nothing changes what the
-- sink writes or --rebuild-rollups recomputes.

CREATE VIEW IF NOT EXISTS client_lifespan_months AS
SELECT owner_business_id, sector, cohort, month, added, first
FROM
(
    SELECT owner_business_id, sector, cohort, months
    FROM client_months
) AS cm
ARRAY JOIN
    months AS month,
    arrayMap((d, i) -> toUInt64(if(i = 1, 1, d)), arrayDifference(arrayMap(m -> toRelativeMonthNum(m), months)), arrayEnumerate(months)) AS added,
    arrayMap(i -> toUInt64(i = 1), arrayEnumerate(months)) AS first;

-- ----------------------------------------------------------------------------------------------
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
    SELECT cityHash64(client_id) AS client_key, client_id, times, first_at, last_at
    FROM client_purchase_times
) AS t
ALL INNER JOIN
(
    SELECT
        cityHash64(client_id) AS client_key,
        client_id AS owner_client_id,
        owner_business_id,
        owned_since,
        cohort,
        sector,
        toUInt32(activity_window_days) * 86400 AS window_seconds
    FROM client_owners
) AS o USING (client_key)
-- (joins by client key: see the top of this file)
WHERE client_id = owner_client_id;

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
--
-- client_activity_months: as in 0132 (see there for what each column means), the purchase
-- instants of each client now from client_purchase_times, merged in the array.
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

-- ----------------------------------------------------------------------------------------------
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
