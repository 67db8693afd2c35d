-- 0120_exact_times: the exact time of every event-time column, beyond DateTime's end.
--
-- DateTime('UTC') is seconds since 1970 in a UInt32 and ends at 2106-02-07 06:28:15 UTC, and
-- ClickHouse 18.16's calendar ends with 2105 (toDate('2106-01-01') is 0000-00-00), but an
-- event is valid until 2200 (SPEC R8), and a record the ledger accepts must not be lost by
-- the sink. Each DateTime column the sink writes gets an Int64 companion <column>_unix: the
-- exact whole seconds since 1970 (the sub-second part stays in *_ns where the table has it).
-- For a time after 2105-12-31 23:59:59 UTC the sink stores the DateTime column saturated at
-- that ceiling and the exact time in <column>_unix; the query pack buckets such rows
-- by the saturated DateTime, i.e. in the month 2105-12 (docs/DESIGN.md, Bad input). Rows
-- written before this migration read their DateTime as the companion (the DEFAULT).
--
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: `taskole migrate` treats an ADD COLUMN
-- of a column that already exists (a file applied half-way before) as done; hence one column
-- per statement.

ALTER TABLE bookings ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE enrollments ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE businesses ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE feedback ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE acquisition_costs ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE retention_costs ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE referral_owners ADD COLUMN owned_since_unix Int64 DEFAULT toInt64(owned_since) AFTER owned_since;

ALTER TABLE commissions ADD COLUMN occurred_at_unix Int64 DEFAULT toInt64(occurred_at) AFTER occurred_at_ns;

ALTER TABLE commissions ADD COLUMN payable_at_unix Int64 DEFAULT toInt64(payable_at) AFTER payable_at;

ALTER TABLE payouts ADD COLUMN period_start_unix Int64 DEFAULT toInt64(period_start) AFTER period_start;

ALTER TABLE payouts ADD COLUMN period_end_unix Int64 DEFAULT toInt64(period_end) AFTER period_end;

ALTER TABLE dlq ADD COLUMN failed_at_unix Int64 DEFAULT toInt64(failed_at) AFTER failed_at;
