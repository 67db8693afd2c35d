package sink

import "github.com/taskole/revshare/schemas"

// businessRows are the own columns of the businesses table (taskole.businesses.v1).
type businessRows struct {
	eventID, businessID, name, sector strCol
	referralRate                      decCol
	occurredAt                        timeCol
	occurredNs                        u32Col
}

func businessesRoute(rc routeConfig) route {
	c := &businessRows{}
	return newRoute(rc, "businesses", []namedCol{
		{"event_id", &c.eventID}, {"business_id", &c.businessID}, {"name", &c.name},
		{"sector", &c.sector}, {"referral_rate", &c.referralRate},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeBusiness, checkBusiness, c.add)
}

func checkBusiness(v *schemas.Business) *schemas.InvalidError {
	if e := checkMoney("referral_rate", v.ReferralRate, rate); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *businessRows) add(v *schemas.Business) {
	c.eventID = append(c.eventID, v.EventID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.name = append(c.name, v.Name)
	c.sector = append(c.sector, v.Sector)
	c.referralRate = append(c.referralRate, v.ReferralRate)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
