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
--
-- The plain views this file first created are defined, as they are now, in views.sql.

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
