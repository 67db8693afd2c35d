-- rebuild.sql: `taskole migrate --rebuild-rollups` (consumers/migrate.Rebuild) recomputes every
-- rollup from the raw tables, which stay the source of truth: it empties each rollup table,
-- then runs the same INSERT … SELECT as the migration that created it (0101, 0131; a test in
-- consumers/runners/migrate keeps them equal). Not a numbered migration: it runs only when asked.
--
-- Stop the sink while it runs (or accept a re-run): a row the sink inserts while a table is
-- being emptied may reach neither the emptied table nor the SELECT. A row that reaches both
-- is harmless for feedback_monthly, whose states are idempotent (uniqExactState of event ids,
-- see 0101), but counted twice by the purchase rollups, whose cells are sums (0131): for those
-- the sink must be stopped.

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

TRUNCATE TABLE IF EXISTS purchase_months_rollup;

INSERT INTO purchase_months_rollup (client_id, month, currency, provider_business_id, commission_owner, purchases, amount, refunded, commission)
SELECT
    client_id,
    toStartOfMonth(completed_at) AS month,
    currency,
    provider_business_id,
    commission_owner,
    sum(toInt64(purchases)) AS purchases,
    sum(amount) AS amount,
    sum(refunded) AS refunded,
    sum(commission) AS commission
FROM
(
    SELECT
        fact_id,
        any(client_id) AS client_id,
        any(completed_at) AS completed_at,
        any(currency) AS currency,
        any(provider_business_id) AS provider_business_id,
        any(commission_owner) AS commission_owner,
        any(purchases) AS purchases,
        any(amount) AS amount,
        any(refunded) AS refunded,
        any(commission) AS commission
    FROM purchase_facts
    GROUP BY fact_id
) AS facts
WHERE (SELECT count() FROM purchase_months_rollup) = 0
GROUP BY client_id, month, currency, provider_business_id, commission_owner
HAVING purchases != 0 OR amount != 0 OR refunded != 0 OR commission != 0;

TRUNCATE TABLE IF EXISTS purchase_times_rollup;

INSERT INTO purchase_times_rollup (client_id, completed_at, purchases)
SELECT
    client_id,
    completed_at,
    sum(toInt64(purchases)) AS purchases
FROM
(
    SELECT fact_id, any(client_id) AS client_id, any(completed_at) AS completed_at, any(purchases) AS purchases
    FROM purchase_facts
    GROUP BY fact_id
) AS facts
WHERE (SELECT count() FROM purchase_times_rollup) = 0
GROUP BY client_id, completed_at
HAVING purchases != 0;
