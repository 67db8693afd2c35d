-- name: nps_csat
-- title: NPS and CSAT per business and month
-- description: Per calendar month of the answers' occurred_at and the business they rate:
-- description: NPS answers (0-10), promoters (9-10), detractors (0-6) and NPS = 100 x
-- description: (promoters - detractors) / answers; CSAT answers (1-5), satisfied (4-5) and
-- description: CSAT = 100 x satisfied / answers (NULL without answers). Each answer counts
-- description: once per event_id. Reads the feedback_monthly aggregate (materialized view).
-- param: by String = business; grouping of the dim column: business, sector or platform
-- param: business String = ; only this business (empty: all)
-- param: sector String = ; only businesses of this sector (empty: all)
-- columns: dim, month, nps_answers, promoters, detractors, nps, csat_answers, satisfied, csat
SELECT
    dim,
    month,
    nps_answers,
    promoters,
    detractors,
    if(nps_answers = 0, NULL, 100 * (promoters - detractors) / nps_answers) AS nps,
    csat_answers,
    satisfied,
    if(csat_answers = 0, NULL, 100 * satisfied / csat_answers) AS csat
FROM
(
    SELECT
        dim,
        month,
        sumIf(answers, kind = 'nps') AS nps_answers,
        sumIf(answers, kind = 'nps' AND bucket = 'promoter') AS promoters,
        sumIf(answers, kind = 'nps' AND bucket = 'detractor') AS detractors,
        sumIf(answers, kind = 'csat') AS csat_answers,
        sumIf(answers, kind = 'csat' AND bucket = 'satisfied') AS satisfied
    FROM
    (
        SELECT
            {{businessDim "business_id"}} AS dim,
            month,
            kind,
            bucket,
            answers
        FROM
        (
            SELECT business_id, month, kind, bucket, uniqExactMerge(answers) AS answers
            FROM feedback_monthly
            GROUP BY business_id, month, kind, bucket
        ) AS lhs
        ANY LEFT JOIN (SELECT business_id, sector FROM business_profiles) AS rhs USING (business_id)
        WHERE {{businessScope "business_id"}}
    )
    GROUP BY dim, month
)
ORDER BY dim, month
