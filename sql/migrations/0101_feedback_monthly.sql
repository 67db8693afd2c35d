-- 0101_feedback_monthly: NPS and CSAT answers per business, month and bucket, maintained by a
-- materialized view (the one metric family where that is sound; see sql/queries/README.md).
--
-- Feedback events are immutable facts whose business and month never change, so they can be
-- aggregated on insert. Each cell keeps the uniqExact STATE of the answers' event_ids, not a
-- count: an answer delivered twice (same event_id, new offset), a row inserted twice, or the
-- backfill below overlapping rows the view already saw all collapse to one answer. That makes
-- the view exactly-once whatever the sink does, and the backfill idempotent.
--
-- bucket: nps answers are promoter (9-10), passive (7-8) or detractor (0-6); csat answers are
-- satisfied (4-5) or unsatisfied (1-3).

CREATE TABLE IF NOT EXISTS feedback_monthly
(
    business_id String,
    month       Date,
    kind        String,
    bucket      String,
    answers     AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (business_id, month, kind, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS feedback_monthly_mv TO feedback_monthly AS
SELECT
    business_id,
    toStartOfMonth(occurred_at) AS month,
    toString(kind) AS kind,
    multiIf(kind = 'nps', multiIf(score >= 9, 'promoter', score >= 7, 'passive', 'detractor'),
            score >= 4, 'satisfied', 'unsatisfied') AS bucket,
    uniqExactState(event_id) AS answers
FROM feedback
GROUP BY business_id, month, kind, bucket;

-- Backfill the rows the feedback table held before the view existed (idempotent, see above).
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
