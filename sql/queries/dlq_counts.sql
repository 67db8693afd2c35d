-- name: dlq_counts
-- title: Dead letters by consumer, source topic and reason
-- description: Records a consumer refused, per consumer (ledger, payouts, or the sink for
-- description: records it could not store), source topic (the topic of the refused record)
-- description: and reason. A refused record counts once per consumer however often its dead
-- description: letter was written (the ledger re-writes the dead letters of the businesses
-- description: topic on every start): distinct (source_topic, source_partition,
-- description: source_offset). The reason is the dead letter's error_label; when that is
-- description: empty, a coarse label from the error text: "<field>:missing" or
-- description: "<field>:invalid" for a field error, "json:malformed", else the error's last
-- description: clause with numbers masked as N ("unknown" when there is no text).
-- param: consumer String = ; only this consumer's dead letters (empty: all)
-- columns: consumer, source_topic, reason, dead_letters
SELECT
    consumer,
    source_topic,
    multiIf(
        label != '', label,
        match(error, 'field "[^"]+": '),
            concat(extract(error, 'field "([^"]+)": '),
                   if(extract(error, 'field "[^"]+": (required)?') = 'required', ':missing', ':invalid')),
        position(error, 'malformed JSON') > 0, 'json:malformed',
        clause = '', 'unknown',
        replaceRegexpAll(clause, '[0-9]+(\\.[0-9]+)?', 'N')) AS reason,
    count() AS dead_letters
FROM
(
    SELECT
        consumer,
        source_topic,
        label,
        error,
        if(position(error, ': ') > 0, extract(error, '(?s)^.*: (.*)$'), error) AS clause
    FROM
    (
        SELECT
            consumer,
            source_topic,
            source_partition,
            source_offset,
            any(error_label) AS label,
            any(error) AS error
        FROM dlq
        WHERE {consumer:String} = '' OR consumer = {consumer:String}
        GROUP BY consumer, source_topic, source_partition, source_offset
    )
)
GROUP BY consumer, source_topic, reason
ORDER BY consumer, source_topic, dead_letters DESC, reason
