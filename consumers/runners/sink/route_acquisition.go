package sink

import "github.com/taskole/revshare/schemas"

// acquisitionCostRows are the own columns of the acquisition_costs table
// (taskole.acquisition-costs.v1).
type acquisitionCostRows struct {
	eventID, businessID strCol
	amount              decCol
	currency, channel   strCol
	occurredAt          timeCol
	occurredNs          u32Col
}

func acquisitionCostsRoute(rc routeConfig) route {
	c := &acquisitionCostRows{}
	return newRoute(rc, "acquisition_costs", []namedCol{
		{"event_id", &c.eventID}, {"business_id", &c.businessID}, {"amount", &c.amount},
		{"currency", &c.currency}, {"channel", &c.channel},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeAcquisitionCost, checkAcquisitionCost, c.add)
}

func checkAcquisitionCost(v *schemas.AcquisitionCost) *schemas.InvalidError {
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *acquisitionCostRows) add(v *schemas.AcquisitionCost) {
	c.eventID = append(c.eventID, v.EventID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.amount = append(c.amount, v.Amount)
	c.currency = append(c.currency, v.Currency)
	c.channel = append(c.channel, v.Channel)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
