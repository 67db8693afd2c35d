package clv

import "math"

// Horizon describes how a predicted CLV is summed: over Days days (365 by default) cut into
// Periods equal periods (12 by default), each discounted at its end at the AnnualRate
// (0.10 by default; set NoDiscount for 0). The zero value is the default.
type Horizon struct {
	Days       float64
	Periods    int
	AnnualRate float64
	NoDiscount bool
}

func (h Horizon) withDefaults() Horizon {
	if h.Days == 0 {
		h.Days = 365
	}
	if h.Periods == 0 {
		h.Periods = 12
	}
	if h.AnnualRate == 0 && !h.NoDiscount {
		h.AnnualRate = 0.10
	}
	return h
}

// Validate reports a horizon that cannot be summed.
func (h Horizon) Validate() error {
	h = h.withDefaults()
	switch {
	case !finite(h.Days) || h.Days <= 0 || h.Days > 36500:
		return invalid("horizon of %v days outside (0, 36500]", h.Days)
	case h.Periods < 1 || h.Periods > 10000:
		return invalid("%d periods outside [1, 10000]", h.Periods)
	case !finite(h.AnnualRate) || h.AnnualRate < 0 || h.AnnualRate > 10:
		return invalid("annual discount rate %v outside [0, 10]", h.AnnualRate)
	}
	return nil
}

// DiscountedPurchases is Σ_k (E[Y(k·L)] − E[Y((k−1)·L)]) · (1+d)^(−k·L/365) over the periods
// k = 1..n of length L = Days/n days: the client's expected purchases in each period, each
// discounted to the as-of day from the period's end. Multiplied by the expected value of a
// purchase it is the predicted CLV (the value model is independent of the purchase count).
// Undiscounted (d = 0) it is E[Y(Days)].
func (h Horizon) DiscountedPurchases(m BGNBD, c Customer) float64 {
	h = h.withDefaults()
	l := h.Days / float64(h.Periods)
	var sum, prev float64
	for k := 1; k <= h.Periods; k++ {
		e := m.ExpectedPurchases(c, float64(k)*l/7)
		sum += (e - prev) * math.Pow(1+h.AnnualRate, -float64(k)*l/365)
		prev = e
	}
	return sum
}
