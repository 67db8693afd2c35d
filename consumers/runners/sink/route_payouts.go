package sink

import "github.com/taskole/revshare/schemas"

// payoutRows are the own columns of the payouts table (taskole.payouts.v1).
type payoutRows struct {
	payoutID, ownerID, currency                  strCol
	periodStart, periodEnd                       timeCol
	opening, accrued, reversed, net, payable, cf decCol
	count                                        u32Col
	commissionIDs                                strArrCol
}

func payoutsRoute(rc routeConfig) route {
	c := &payoutRows{}
	return newRoute(rc, "payouts", []namedCol{
		{"payout_id", &c.payoutID}, {"owner_business_id", &c.ownerID}, {"currency", &c.currency},
		{"period_start", &c.periodStart}, {"period_end", &c.periodEnd},
		{"opening_balance", &c.opening}, {"accrued", &c.accrued}, {"reversed", &c.reversed},
		{"net", &c.net}, {"payable", &c.payable}, {"carried_forward", &c.cf},
		{"commission_count", &c.count}, {"commission_ids", &c.commissionIDs},
	}, schemas.DecodePayout, checkPayout, c.add)
}

func checkPayout(v *schemas.Payout) *schemas.InvalidError {
	for _, f := range []moneyField{
		{"opening_balance", v.OpeningBalance, money}, {"accrued", v.Accrued, money},
		{"reversed", v.Reversed, money}, {"net", v.Net, money}, {"payable", v.Payable, money},
		{"carried_forward", v.CarriedForward, money},
	} {
		if e := checkMoney(f.name, f.v, f.spec); e != nil {
			return e
		}
	}
	if v.CommissionCount < 0 || int64(v.CommissionCount) > 1<<32-1 {
		return outOfRange("commission_count", "%d does not fit UInt32", v.CommissionCount)
	}
	if e := checkTimeField("period_start", v.PeriodStart); e != nil {
		return e
	}
	return checkTimeField("period_end", v.PeriodEnd)
}

func (c *payoutRows) add(v *schemas.Payout) {
	c.payoutID = append(c.payoutID, v.PayoutID)
	c.ownerID = append(c.ownerID, v.OwnerBusinessID)
	c.currency = append(c.currency, v.Currency)
	c.periodStart = append(c.periodStart, v.PeriodStart)
	c.periodEnd = append(c.periodEnd, v.PeriodEnd)
	c.opening = append(c.opening, v.OpeningBalance)
	c.accrued = append(c.accrued, v.Accrued)
	c.reversed = append(c.reversed, v.Reversed)
	c.net = append(c.net, v.Net)
	c.payable = append(c.payable, v.Payable)
	c.cf = append(c.cf, v.CarriedForward)
	c.count = append(c.count, uint32(v.CommissionCount))
	ids := v.CommissionIDs
	if ids == nil {
		ids = []string{}
	}
	c.commissionIDs = append(c.commissionIDs, ids)
}
