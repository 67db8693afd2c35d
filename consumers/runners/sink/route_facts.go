package sink

import "github.com/taskole/revshare/schemas"

// factRows are the own columns of the purchase_facts table (taskole.purchase-facts.v1,
// migration 0130).
type factRows struct {
	factID, clientID, bookingID, providerID strCol
	currency                                strCol
	completedAt                             timeCol
	completedNs                             u32Col
	purchases                               i8Col
	amount, refunded                        decCol
	commissionOwner                         strCol
	commission                              decCol
	sourceEventID                           strCol
	occurredAt                              timeCol
	occurredNs                              u32Col
}

// purchaseFactsRoute decodes with the sink's bounds (the facts carry the input's times and
// amounts), checks every decimal against Decimal(18, 4) and guards its inserts (checkMarks).
func purchaseFactsRoute(rc routeConfig) route {
	c := &factRows{}
	r := newRoute(rc, "purchase_facts", []namedCol{
		{"fact_id", &c.factID}, {"client_id", &c.clientID}, {"booking_id", &c.bookingID},
		{"provider_business_id", &c.providerID}, {"currency", &c.currency},
		{"completed_at", &c.completedAt}, {"completed_at_ns", &c.completedNs},
		{"purchases", &c.purchases}, {"amount", &c.amount}, {"refunded", &c.refunded},
		{"commission_owner", &c.commissionOwner}, {"commission", &c.commission},
		{"source_event_id", &c.sourceEventID},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodePurchaseFact, checkPurchaseFact, c.add)
	// The rollups sum these rows as they are inserted: a duplicate cannot be taken back.
	r.guarded = true
	return r
}

func checkPurchaseFact(v *schemas.PurchaseFact) *schemas.InvalidError {
	if v.Purchases < -1 || v.Purchases > 1 {
		return invalidField("purchases", "%d is not -1, 0 or 1", v.Purchases)
	}
	for _, f := range []moneyField{
		{"amount", v.Amount, money}, {"refunded", v.Refunded, money}, {"commission", v.Commission, money},
	} {
		if e := checkMoney(f.name, f.v, f.spec); e != nil {
			return e
		}
	}
	if e := checkTimeField("completed_at", v.CompletedAt); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *factRows) add(v *schemas.PurchaseFact) {
	c.factID = append(c.factID, v.FactID)
	c.clientID = append(c.clientID, v.ClientID)
	c.bookingID = append(c.bookingID, v.BookingID)
	c.providerID = append(c.providerID, v.ProviderBusinessID)
	c.currency = append(c.currency, v.Currency)
	at, ns := secs(v.CompletedAt)
	c.completedAt = append(c.completedAt, at)
	c.completedNs = append(c.completedNs, ns)
	c.purchases = append(c.purchases, v.Purchases)
	c.amount = append(c.amount, v.Amount)
	c.refunded = append(c.refunded, v.Refunded)
	c.commissionOwner = append(c.commissionOwner, v.CommissionOwner)
	c.commission = append(c.commission, v.Commission)
	c.sourceEventID = append(c.sourceEventID, v.SourceEventID)
	oat, ons := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, oat)
	c.occurredNs = append(c.occurredNs, ons)
}
