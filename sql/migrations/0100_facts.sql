-- 0100_facts: deduplicated facts for the BI query pack (sql/queries), as plain views.
--
-- Plain (not materialized) views: they are evaluated at query time over the raw tables of
-- 0001_raw, so a purchase cancelled or refunded later, or an ownership correction that moves
-- a client to another owner and cohort, is reflected at once in every metric. Nothing here
-- stores derived rows, so nothing here can double count or go stale. See
-- sql/queries/README.md for the reasoning per metric.
--
-- Deduplication rules:
--   * input events count once per event_id (a re-delivered event has a new offset);
--   * commissions count once per commission_id;
--   * referral_owners is a compacted topic keyed by client_id: the current owner is the
--     client's record with the largest (_partition, _offset), i.e. the last one written. Not
--     argMax by owned_since: a late enrollment moves owned_since EARLIER (R5), so the latest
--     record is not the one with the latest owned_since;
--   * a business's sector and name are those of its latest businesses event by
--     (occurred_at, occurred_at_ns, event_id).
--
-- Time resolution: the activity window and lifecycle stages compare whole seconds
-- (DateTime('UTC')); the *_ns part only orders events within a second.
--
-- The plain views this file first created are defined, as they are now, in views.sql.

-- sector_settings: the activity window per sector (SPEC §3; 60 days when a sector has no
-- row). Latest updated_at wins. Write with e.g.
--   INSERT INTO sector_settings (sector, activity_window_days) VALUES ('fitness', 45)
CREATE TABLE IF NOT EXISTS sector_settings
(
    sector               String,
    activity_window_days UInt16,
    updated_at           DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY sector;
