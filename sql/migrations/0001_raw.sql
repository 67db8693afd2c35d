-- 0001_raw: one raw table per topic of SPEC §4, written only by `taskole sink`.
--
-- Every raw table holds every field of its event plus where the sink read it:
--   _topic       the Kafka topic (with any --topic-prefix),
--   _partition   its partition,
--   _offset      the record's offset,
--   _inserted_at when the sink inserted it (server clock).
-- (_topic, _partition, _offset) identifies a Kafka record; it is the sorting key, so a record
-- inserted twice would collapse at merge time (ReplacingMergeTree). The sink never inserts a
-- record twice in the first place: it resumes from these columns (see consumers/sink), so
-- plain SELECTs without FINAL count every record exactly once.
--
-- No PARTITION BY on purpose: one INSERT of fewer than max_insert_block_size rows then forms
-- exactly one part, which is atomic; the sink's exactly-once resume relies on that.
--
-- Times are DateTime('UTC') (whole seconds; 18.16 has no DateTime64) with the sub-second part
-- in <name>_ns (nanoseconds, 0..999999999). Money is Decimal(18,4); rates Decimal(38,10).
-- An amount absent from the event (allowed by the contract) is stored as 0.

CREATE TABLE IF NOT EXISTS bookings
(
    event_id       String,
    booking_id     String,
    client_id      String,
    business_id    String,
    status         Enum8('created' = 1, 'confirmed' = 2, 'completed' = 3, 'cancelled' = 4, 'refunded' = 5),
    amount         Decimal(18, 4),
    currency       String,
    refund_amount  Decimal(18, 4),
    category       String,
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS enrollments
(
    event_id       String,
    client_id      String,
    business_id    String,
    source         Enum8('' = 0, 'import' = 1, 'invite' = 2, 'qr' = 3),
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS businesses
(
    event_id       String,
    business_id    String,
    name           String,
    sector         String,
    referral_rate  Decimal(38, 10),
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS feedback
(
    event_id       String,
    client_id      String,
    business_id    String,
    kind           Enum8('nps' = 1, 'csat' = 2),
    score          UInt8,
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS acquisition_costs
(
    event_id       String,
    business_id    String,
    amount         Decimal(18, 4),
    currency       String,
    channel        String,
    occurred_at    DateTime('UTC'),
    occurred_at_ns UInt32,
    _topic         String,
    _partition     UInt32,
    _offset        UInt64,
    _inserted_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

-- referral_owners is a compacted topic: a client may appear several times (ownership
-- corrections); the current owner is the row with the largest (_partition, _offset) per
-- client_id (the topic is keyed by client_id, so one client lives in one partition).
CREATE TABLE IF NOT EXISTS referral_owners
(
    client_id         String,
    owner_business_id String,
    owned_since       DateTime('UTC'),
    owned_since_ns    UInt32,
    source            Enum8('enrollment' = 1, 'booking' = 2),
    event_id          String,
    _topic            String,
    _partition        UInt32,
    _offset           UInt64,
    _inserted_at      DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS commissions
(
    commission_id        String,
    kind                 Enum8('accrual' = 1, 'reversal' = 2),
    reason               Enum8('completed' = 1, 'refund' = 2, 'cancellation' = 3, 'ownership_correction' = 4),
    owner_business_id    String,
    provider_business_id String,
    client_id            String,
    booking_id           String,
    booking_amount       Decimal(18, 4),
    rate                 Decimal(38, 10),
    amount               Decimal(18, 4),
    currency             String,
    occurred_at          DateTime('UTC'),
    occurred_at_ns       UInt32,
    payable_at           DateTime('UTC'),
    payable_at_ns        UInt32,
    source_event_id      String,
    _topic               String,
    _partition           UInt32,
    _offset              UInt64,
    _inserted_at         DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

CREATE TABLE IF NOT EXISTS payouts
(
    payout_id         String,
    owner_business_id String,
    currency          String,
    period_start      DateTime('UTC'),
    period_end        DateTime('UTC'),
    opening_balance   Decimal(18, 4),
    accrued           Decimal(18, 4),
    reversed          Decimal(18, 4),
    net               Decimal(18, 4),
    payable           Decimal(18, 4),
    carried_forward   Decimal(18, 4),
    commission_count  UInt32,
    commission_ids    Array(String),
    _topic            String,
    _partition        UInt32,
    _offset           UInt64,
    _inserted_at      DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

-- dlq holds two kinds of rows:
--   * records of taskole.dlq.v1 as the pipeline wrote them (_topic is the DLQ topic;
--     source_* say where the bad record came from), and
--   * records the sink itself could not decode from any topic (_topic = source_topic,
--     consumer = 'sink'), including DLQ records that are not valid dead letters.
-- error_label is the short "<field>:<code>" form for counting ('' when unknown).
CREATE TABLE IF NOT EXISTS dlq
(
    source_topic     String,
    source_partition Int32,
    source_offset    Int64,
    key              String,
    value            String,
    error            String,
    error_label      String,
    consumer         String,
    failed_at        DateTime('UTC'),
    _topic           String,
    _partition       UInt32,
    _offset          UInt64,
    _inserted_at     DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);

-- sink_progress: after every flush the sink records, per topic and partition, the last
-- offset whose records are all in the raw tables. It resumes from here (see consumers/sink).
CREATE TABLE IF NOT EXISTS sink_progress
(
    topic       String,
    partition   UInt32,
    offset      UInt64,
    updated_at  DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(offset)
ORDER BY (topic, partition);
