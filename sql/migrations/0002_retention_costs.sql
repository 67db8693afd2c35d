-- 0002_retention_costs: the raw table of taskole.retention-costs.v1 (SPEC §4), written only by
-- `taskole sink`, with the columns and conventions of 0001_raw (Kafka coordinates as the
-- sorting key, DateTime('UTC') plus *_ns, Decimal(18,4) money). client_id is '' when the
-- event names no client; kind is the contract's enum.

CREATE TABLE IF NOT EXISTS retention_costs
(
    event_id       String,
    business_id    String,
    client_id      String,
    amount         Decimal(18, 4),
    currency       String,
    kind           Enum8('loyalty_discount' = 1, 'free_service' = 2, 'guarantee' = 3, 'other' = 4),
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);
