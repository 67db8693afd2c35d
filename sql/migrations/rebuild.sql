-- rebuild.sql: `taskole migrate --rebuild-rollups` (consumers/migrate.Rebuild) recomputes every
-- rollup from the raw tables, which stay the source of truth: it empties each rollup table,
-- then runs the same INSERT … SELECT as the migration that created it (0101; a test in
-- consumers/migrate keeps them equal). Not a numbered migration: it runs only when asked.
--
-- Stop the sink while it runs (or accept a re-run): a row the sink inserts while a table is
-- being emptied may reach neither the emptied table nor the SELECT. A row that reaches both
-- is harmless, every rollup state being idempotent (uniqExactState of event ids, see 0101).

TRUNCATE TABLE IF EXISTS feedback_monthly;

INSERT INTO feedback_monthly (business_id, month, kind, bucket, answers)
SELECT
    business_id,
    toStartOfMonth(occurred_at) AS month,
    toString(kind) AS kind,
    multiIf(kind = 'nps', multiIf(score >= 9, 'promoter', score >= 7, 'passive', 'detractor'),
            score >= 4, 'satisfied', 'unsatisfied') AS bucket,
    uniqExactState(event_id) AS answers
FROM feedback
GROUP BY business_id, month, kind, bucket;
