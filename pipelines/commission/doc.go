// Package commission holds the pure rules of the revenue-share ledger (SPEC R1–R6, R8): per client,
// a state machine that takes enrollments and booking events in any order and yields the
// client's referral owner and the append-only commission entries. It does no I/O and knows no
// Kafka; the runner (consumers) feeds it decoded events of one client at a time, stores each
// client's State in a compacted changelog (MarshalBinary) and writes Result to the output
// topics in the same transaction.
//
// # Rules
//
// R1 ownership. The owner is the business of the client's earliest establishing event — an
// enrollment or a completed booking — ordered by (occurred_at, event_id). Only the current
// winner is kept (owner, owned_since, source, event id); a later establishing event never
// moves it. Rejected claims are not stored: they are derived in ClickHouse from the
// enrollments against the owners topic (Result.Rejected flags them for metrics).
//
// R2 accrual. When a booking completes at a provider other than the owner, the owner accrues
// round((amount − refunded) × rate) with refunded = 0, half-even to the currency's ISO 4217
// minor unit. rate is the owner's referral_rate in force at the booking's completion time
// (Rates.At: latest occurred_at ≤ t, ties the larger event_id), else Config.DefaultRate. The
// rate is fixed when (owner, booking) is first judged and stored with the booking: a later
// businesses event does not change it. A booking with the owner itself is direct value:
// nothing accrues. Because a completed booking is itself an establishing event, a client with
// a completed booking always has an owner and owned_since ≤ every completion time: no booking
// is ever judged without an owner, so no hold/grace buffer is needed (R5's "held" branch is
// never taken; every late change goes through the correction rule).
//
// R3 reversal. The owner keeps round((amount − refunded) × rate); each refund emits a
// reversal of (kept before − kept after), cancellation after completion reverses all that is
// kept (reason cancellation). Entries of zero are not emitted. Since rounding is monotone,
// reversals never exceed the accrual and a booking's net does not depend on how its refunds
// are split. A refund beyond what is left, in another currency, or of a booking not completed
// is an *schemas.InvalidError.
//
// Lifecycle. created < confirmed < completed < refunded, forward only: any step may be
// skipped (created → completed is an ordinary instant booking), a booking may start at any
// status but refunded, refunded may repeat; cancelled may follow created, confirmed or
// completed (or start a booking). Everything else is an *schemas.InvalidError: a move backwards, a
// repeated status other than refunded under a new event_id, a refund before completed, any
// event after cancelled, and refunded → cancelled (not in the spec's list; the producer
// refunds the rest instead).
//
// R4 exactly once. Booking events are deduplicated per booking by a 64-bit hash of event_id
// (all events of a booking share the client's partition, so the booking's record is the
// natural place). Enrollments need no record: applying one is idempotent because the owner is
// a minimum over establishing events (a redelivery is either the owner's event — Duplicate —
// or loses to it). commission_id = hex(sha256(trigger event_id ‖ booking_id ‖ owner ‖ kind ‖
// reason)[:16]): one trigger yields at most one entry per (booking, owner, kind, reason), so
// ids are unique and a replay of the same input yields the same ids.
//
// R5 corrections. When a late, earlier establishing event changes the owner business, every
// kept completed booking is judged again: the old owner gets a reversal of what it keeps and
// the new owner an accrual of what it now keeps (its own rate at the booking's time), both
// reason ownership_correction, triggered by the late event. Invariant: for every (owner,
// booking) the net of the ledger is round((amount − refunded) × rate(owner, t)) for the final
// owner when the provider differs, and 0 for everyone else — whatever the arrival order
// (property-tested), provided the owner's rates were known when bookings were judged.
//
// R6 entries. occurred_at is the triggering event's; payable_at is booking time + Hold for
// accruals and max(accrual's payable_at, trigger's occurred_at) for reversals (R7);
// source_event_id is the trigger; booking_amount, rate (the rate of the entry's owner) and
// currency are the booking's.
//
// Facts. Every change of a booking's purchase judgement (SPEC §3: a booking that reached
// completed and was not cancelled afterwards) is also a signed delta in Result.Facts
// (schemas.PurchaseFact, taskole.purchase-facts.v1): completion +1 purchase and +amount; each
// refund +refund_amount; a cancellation after completion −1, −amount, −refunds so far; and
// one commission delta per ledger entry (its owner, its signed amount). Facts do not depend
// on owners: a direct booking has its purchase deltas and no commission delta. Every fact
// carries the booking's completion time; fact_id is FactID(kind, trigger, booking_id,
// commission_id): a commission delta's commission_id, else a hash of the kind, trigger and
// booking; unique per delta and identical on replay. Summed per booking, the facts are
// the booking's final judgement and, per owner, the net of its ledger entries
// (TestFactsSumToJudgement).
//
// # Bounds
//
// Prune drops bookings older than watermark − Horizon (completion time, else latest event).
// Later events of a dropped booking are refused (beyond_horizon / refund_before_completed)
// rather than double counted; ownership corrections no longer reach dropped bookings, so order
// independence holds within the horizon. The watermark should be event time (e.g. the
// partition's latest occurred_at), not the wall clock, so that a replay prunes alike.
//
// An owner-only client is one 64-byte State (owner id interned by the Engine, unix-nano
// times, the establishing event id packed inline when it is a canonical UUID or at most 16
// bytes; a longer id costs a second allocation, 136 bytes in all) and about 40 bytes of
// changelog (MarshalBinary: version byte, varints, length-prefixed strings; decimals as
// exponent + coefficient). Each kept booking adds about 200 bytes in memory.
//
// # Use
//
// Rates must hold the businesses topic up to date before bookings are judged (the runner
// reads it to its end first); a rate that arrives after the bookings it covers were judged
// does not change them (R2). "Arrives after" is a fact of the input, not of how fast the
// table was read: each rate carries its announcement (Rates.ApplyAnnounced, the record's
// timestamp), a completed booking keeps its own (AppendBookingAsOf), and every judgement of
// the booking — at completion or in a later ownership correction — sees only the rates
// announced by then. The runner also makes sure every rate announced by then is in the table
// (consumers/runners/ledger, the rates gate). One goroutine owns a State at a time; an Engine and a Rates are
// safe for concurrent use. Results never alias the State: the runner may keep them.
//
// Errors: *schemas.InvalidError is poison input (dead-letter, state unchanged). Nothing else is
// returned by the rules.
package commission
