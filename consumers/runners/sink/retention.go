package sink

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// ---- retention_costs (migration 0002) ----

type retentionCosts struct {
	table
	eventID, businessID, clientID strCol
	amount                        decCol
	currency                      strCol
	kind                          i8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
	meta
}

func newRetentionCosts(db string) *retentionCosts {
	t := &retentionCosts{}
	t.init(db, "retention_costs", append([]namedCol{
		{"event_id", &t.eventID}, {"business_id", &t.businessID}, {"client_id", &t.clientID},
		{"amount", &t.amount}, {"currency", &t.currency}, {"kind", &t.kind},
		{"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
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

func checkRetentionCost(v *schemas.RetentionCost) *rowError {
	if _, ok := retentionKind(v.Kind); !ok {
		return fieldErr("kind", "invalid", "unknown kind %q", v.Kind)
	}
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *retentionCosts) add(v *schemas.RetentionCost, r *kgo.Record) {
	k, _ := retentionKind(v.Kind)
	t.eventID = append(t.eventID, v.EventID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.clientID = append(t.clientID, v.ClientID)
	t.amount = append(t.amount, v.Amount)
	t.currency = append(t.currency, v.Currency)
	t.kind = append(t.kind, k)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}
