package sink

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// commissionRows are the own columns of the commissions table (taskole.commissions.v1).
type commissionRows struct {
	commissionID                  strCol
	kind, reason                  i8Col
	ownerID, providerID, clientID strCol
	bookingID                     strCol
	bookingAmount, rate, amount   decCol
	currency                      strCol
	occurredAt, payableAt         timeCol
	occurredNs, payableNs         u32Col
	sourceEventID                 strCol
}

// commissionsRoute skips the ledger's progress markers: no entry, nothing to refuse.
func commissionsRoute(rc routeConfig) route {
	c := &commissionRows{}
	r := newRoute(rc, "commissions", []namedCol{
		{"commission_id", &c.commissionID}, {"kind", &c.kind}, {"reason", &c.reason},
		{"owner_business_id", &c.ownerID}, {"provider_business_id", &c.providerID},
		{"client_id", &c.clientID}, {"booking_id", &c.bookingID},
		{"booking_amount", &c.bookingAmount}, {"rate", &c.rate}, {"amount", &c.amount},
		{"currency", &c.currency}, {"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
		{"payable_at", &c.payableAt}, {"payable_at_ns", &c.payableNs},
		{"source_event_id", &c.sourceEventID},
	}, schemas.DecodeCommission, checkCommission, c.add)
	r.skips = isMarker
	return r
}

// isMarker reports whether r carries schemas.MarkerHeader (a ledger progress marker on the
// commissions topic).
func isMarker(r *kgo.Record) bool {
	_, ok := header(r, schemas.MarkerHeader)
	return ok
}

func commissionKind(k schemas.CommissionKind) (int8, bool) {
	switch k {
	case schemas.Accrual:
		return 1, true
	case schemas.Reversal:
		return 2, true
	}
	return 0, false
}

func commissionReason(r schemas.Reason) (int8, bool) {
	switch r {
	case schemas.ReasonCompleted:
		return 1, true
	case schemas.ReasonRefund:
		return 2, true
	case schemas.ReasonCancellation:
		return 3, true
	case schemas.ReasonOwnershipCorrection:
		return 4, true
	}
	return 0, false
}

func checkCommission(v *schemas.Commission) *schemas.InvalidError {
	if _, ok := commissionKind(v.Kind); !ok {
		return invalidField("kind", "unknown kind %q", v.Kind)
	}
	if _, ok := commissionReason(v.Reason); !ok {
		return invalidField("reason", "unknown reason %q", v.Reason)
	}
	for _, f := range []moneyField{
		{"booking_amount", v.BookingAmount, money}, {"rate", v.Rate, rate}, {"amount", v.Amount, money},
	} {
		if e := checkMoney(f.name, f.v, f.spec); e != nil {
			return e
		}
	}
	if e := checkTimeField("occurred_at", v.OccurredAt); e != nil {
		return e
	}
	return checkTimeField("payable_at", v.PayableAt)
}

func (c *commissionRows) add(v *schemas.Commission) {
	k, _ := commissionKind(v.Kind)
	why, _ := commissionReason(v.Reason)
	c.commissionID = append(c.commissionID, v.CommissionID)
	c.kind = append(c.kind, k)
	c.reason = append(c.reason, why)
	c.ownerID = append(c.ownerID, v.OwnerBusinessID)
	c.providerID = append(c.providerID, v.ProviderBusinessID)
	c.clientID = append(c.clientID, v.ClientID)
	c.bookingID = append(c.bookingID, v.BookingID)
	c.bookingAmount = append(c.bookingAmount, v.BookingAmount)
	c.rate = append(c.rate, v.Rate)
	c.amount = append(c.amount, v.Amount)
	c.currency = append(c.currency, v.Currency)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
	pat, pns := secs(v.PayableAt)
	c.payableAt = append(c.payableAt, pat)
	c.payableNs = append(c.payableNs, pns)
	c.sourceEventID = append(c.sourceEventID, v.SourceEventID)
}
