package sink

import "github.com/taskole/revshare/schemas"

// retentionCostRows are the own columns of the retention_costs table (migration 0002,
// taskole.retention-costs.v1).
type retentionCostRows struct {
	eventID, businessID, clientID strCol
	amount                        decCol
	currency                      strCol
	kind                          i8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
}

func retentionCostsRoute(rc routeConfig) route {
	c := &retentionCostRows{}
	return newRoute(rc, "retention_costs", []namedCol{
		{"event_id", &c.eventID}, {"business_id", &c.businessID}, {"client_id", &c.clientID},
		{"amount", &c.amount}, {"currency", &c.currency}, {"kind", &c.kind},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeRetentionCost, checkRetentionCost, c.add)
}

// retentionKind maps a kind to its Enum8 value in retention_costs.
func retentionKind(k schemas.RetentionKind) (int8, bool) {
	switch k {
	case schemas.RetentionLoyaltyDiscount:
		return 1, true
	case schemas.RetentionFreeService:
		return 2, true
	case schemas.RetentionGuarantee:
		return 3, true
	case schemas.RetentionOther:
		return 4, true
	}
	return 0, false
}

func checkRetentionCost(v *schemas.RetentionCost) *schemas.InvalidError {
	if _, ok := retentionKind(v.Kind); !ok {
		return invalidField("kind", "unknown kind %q", v.Kind)
	}
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *retentionCostRows) add(v *schemas.RetentionCost) {
	k, _ := retentionKind(v.Kind)
	c.eventID = append(c.eventID, v.EventID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.clientID = append(c.clientID, v.ClientID)
	c.amount = append(c.amount, v.Amount)
	c.currency = append(c.currency, v.Currency)
	c.kind = append(c.kind, k)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
