// Package payout holds the pure payout rules (SPEC R7): per referral owner and currency, a
// balance fed by the ledger's commission entries, closed once per payout period into a
// statement (schemas.Payout). It does no I/O and knows no Kafka; the runner
// (consumers/payouts) feeds it decoded entries of one owner at a time, stores each owner's
// State in a changelog (MarshalBinary) and writes the statements in the same transaction.
//
// # Periods
//
// A payout period is a calendar month in UTC (Config.Period Month, the default) or an ISO
// week, Monday 00:00 UTC to the next Monday (Week); [start, end). An entry belongs to the period
// that contains its payable_at. The ledger computes payable_at (accrual: booking time + hold;
// reversal: the later of its accrual's payable_at and its refund's occurred_at); this package
// only consumes it.
//
// # Statements
//
// For one owner, currency and period:
//
//	opening_balance  what the previous statement carried forward (0 for the first)
//	accrued          sum of the positive entries of the period
//	reversed         sum of the negative entries of the period (≤ 0)
//	net              accrued + reversed
//	payable          opening + net when that is ≥ the currency's minimum payout, else 0
//	carried_forward  opening + net − payable (the whole balance when below the minimum or negative)
//	commission_count the number of entries; commission_ids lists them, sorted
//
// The minimum payout is 20 in the currency's unit (20.00 EUR, 20 JPY, 20.000 BHD) unless
// Config.MinPayout sets it per currency. Every amount is written with exactly the currency's
// ISO 4217 minor unit (half-even rounding, a no-op for ledger amounts, which already fit it).
// No currency conversion: each currency is its own account.
//
// A statement is issued for every period in which the account has entries or a non-zero
// opening balance: finance gets one statement per period where there is a balance, including
// periods that only carry a balance below the minimum (or a negative one) forward, so a
// balance never disappears from view. A period with no entries and a zero opening balance has
// no statement.
//
// payout_id is hex(sha256(owner ‖ currency ‖ period_start)[:16]) (NUL-separated): one id per
// owner × currency × period, the same on every replay. commission_ids are sorted, so the same
// entries give the same bytes whatever order they arrived in. Every cent is traceable: the ids
// name the ledger entries of taskole.commissions.v1 the statement covers, and
// accrued + reversed is exactly the sum of their amounts.
//
// # Closing a period
//
// A period closes on an event-time watermark, never on the wall clock, so replays and restarts
// close the same periods at the same point of the input:
//
//   - the watermark of a partition of the commissions topic is the largest occurred_at seen
//     on it (the owners sharing a partition share the clock);
//   - a period closes when watermark ≥ period_end + Config.CloseDelay (default 72h);
//   - an explicit close from finance ("close every period ending at or before T", for owners
//     or partitions without new traffic) raises the watermark to T + CloseDelay — the same rule.
//
// Why occurred_at and not payable_at: payable_at ≥ occurred_at for every entry, so once the
// partition's event time has passed period_end, every entry payable in the period has occurred;
// CloseDelay absorbs the ledger's lateness (cross-partition skew, ownership corrections).
// payable_at runs up to the hold period (14 days) ahead of event time, so a payable_at
// watermark would close periods before their entries exist.
//
// An entry whose period is already closed for its owner — a refund after the statement, an
// ownership correction, an entry later than CloseDelay — lands in the first open period: "a
// reversal after a statement was issued lands in the next statement". Statements are therefore
// deterministic for a given input order of the partition (Kafka keeps it across restarts and
// replays), and independent of the arrival order of entries within a period as long as they
// arrive before the period closes (property-tested).
//
// The runner must call Engine.Advance(state, watermark) for an owner before Engine.Add, and for
// every owner of the partition whenever Engine.OpenFrom(watermark) moves, so that owners
// without new traffic get their statements too.
//
// # Exactly once
//
// Each commission counts once: Add reports a commission_id already booked as Duplicate and
// changes nothing — ids of open entries are kept in full, ids of closed entries as 64-bit
// hashes for Config.DedupeHorizon (default 400 days of periods) after their period closed.
// With the runner's transactions (state, statements and offsets commit together) a statement is
// issued once per owner × currency × period, even across crashes.
//
// Errors: *InvalidError is poison input (dead-letter it, the state is unchanged). Nothing else
// is returned by the rules.
package payout
