package commission

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Fact kinds: what changed in the judgement of a booking (FactID's kind).
const (
	FactPurchase     = "purchase"     // the booking became a purchase
	FactRefund       = "refund"       // a purchase was refunded
	FactCancellation = "cancellation" // a purchase was cancelled
	FactCommission   = "commission"   // a ledger entry for the booking
)

// FactID is the fact_id of a purchase-fact delta. A commission delta's is its commission_id
// (unique per ledger entry and identical on replay, R4: no second hash). The others' is the
// first 16 bytes (hex) of sha256(kind ‖ 0 ‖ trigger event_id ‖ 0 ‖ booking_id ‖ 0 ‖ 0): a
// trigger changes a booking's purchase judgement at most once (it is one lifecycle event of
// it), so these are unique per delta and identical on replay too; they cannot meet a
// commission_id but by a collision of 128-bit hashes of differently shaped inputs.
func FactID(kind, trigger, bookingID, commissionID string) string {
	if kind == FactCommission {
		return commissionID
	}
	return digestID(kind, trigger, bookingID, "")
}

// add appends ledger entry c of booking b to res, with its commission delta.
func (e *Engine) add(res *Result, b *book, c schemas.Commission) {
	res.Commissions = append(res.Commissions, c)
	f := e.fact(b, c.BookingID, FactCommission, c.ClientID, c.SourceEventID, c.CommissionID, c.OccurredAt)
	f.CommissionOwner, f.Commission = c.OwnerBusinessID, c.Amount
	res.Facts = append(res.Facts, f)
}

// judged appends the purchase delta of kind for booking b (whose id is id: the id of the
// event that found it, so b.idString need not build it again), triggered by event trigger of
// client at t: purchases n, amount and refunded as given.
func (e *Engine) judged(res *Result, b *book, id, kind, client, trigger string, t int64, n int8, amount, refunded decimal.Decimal) {
	f := e.fact(b, id, kind, client, trigger, "", time.Unix(0, t).UTC())
	f.Purchases, f.Amount, f.Refunded = n, amount, refunded
	res.Facts = append(res.Facts, f)
}

// fact is a delta of booking b (completed: b.at is its completion time; id: its id, as
// b.idString, which the caller may already hold) with zero values.
func (e *Engine) fact(b *book, id, kind, client, trigger, commissionID string, at time.Time) schemas.PurchaseFact {
	return schemas.PurchaseFact{
		FactID:             FactID(kind, trigger, id, commissionID),
		ClientID:           client,
		BookingID:          id,
		ProviderBusinessID: b.provider,
		Currency:           b.currency(),
		CompletedAt:        time.Unix(0, b.at).UTC(),
		SourceEventID:      trigger,
		OccurredAt:         at,
	}
}
