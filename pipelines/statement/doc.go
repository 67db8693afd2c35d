// Package statement holds the pure payout rules (SPEC R7): per referral owner and currency, a
// balance fed by the ledger's commission entries, closed once per payout period into a
// statement (schemas.Payout). It does no I/O and knows no Kafka; the runner
// (consumers/runners/payouts) feeds it decoded entries of one owner at a time, stores each owner's
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
// A period closes on an event-time watermark, never on the wall clock. The runner passes the
// ledger's low watermark: the minimum, over every input partition of the ledger, of the largest
// occurred_at it processed there (see consumers/runners/payouts). A period closes when that watermark
// ≥ period_end + Config.CloseDelay (default 72h). payable_at is not the clock: it runs up to
// the hold period ahead of event time.
//
// Where an entry is booked depends on the entry alone (AddFrom): the period of its payable_at,
// unless the watermark of its own ledger input partition before it (its source watermark)
// had already closed that period; then the entry is late and is booked in the first period the
// source watermark leaves open, and the statement counts it in late_count and names it in
// late_commission_ids. An owner's clock never passes an input partition's watermark, so that
// period is still open; should the owner's first open period be later anyway (an explicit
// close, an entry without a source watermark), the entry lands there, late. Statements are
// therefore the same for every processing order and speed that yields the same entries with the
// same source watermarks (property-tested within a period; see docs/DESIGN.md for the
// argument across partitions).
//
// The runner must call Engine.Advance(state, watermark) for an owner before Engine.Add, and for
// every owner of the partition whenever Engine.OpenFrom(watermark) moves, so that owners
// without new traffic get their statements too. CheckCoverage says how statements cover a
// ledger read back from Kafka (the demo prints it).
//
// # Exactly once
//
// Each commission counts once: Add reports a commission_id already booked as Duplicate and
// changes nothing — ids of open entries are kept in full, ids of closed entries as 64-bit
// hashes for Config.DedupeHorizon (default 400 days of periods) after their period closed.
// With the runner's transactions (state, statements and offsets commit together) a statement is
// issued once per owner × currency × period, even across crashes.
//
// Errors: *schemas.InvalidError is poison input (dead-letter it, the state is unchanged). Nothing else
// is returned by the rules.
package statement
