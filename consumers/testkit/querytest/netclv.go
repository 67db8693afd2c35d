package querytest

import (
	"time"

	"github.com/shopspring/decimal"
)

// Reference computations of net_clv and retention_rate, from SPEC §3 (net CLV, CRR).

// activeDuring reports whether client c was active at some instant of month m: a purchase
// with month start - window <= purchase time <= month's last second.
func (r *Ref) activeDuring(c Client, m time.Time) bool {
	last := m.AddDate(0, 1, 0).Add(-time.Second)
	for _, p := range r.byOwner[c.ID] {
		if !p.At.After(last) && !p.At.Add(r.window(c)).Before(m) {
			return true
		}
	}
	return false
}

// allocation is a share of a retention cost carried by one client.
type allocation struct {
	client   Client
	currency string
	month    time.Time
	amount   decimal.Decimal
}

// retentionAllocations allocates every retention cost to clients: the named client (when it
// has an owner) carries it all; a cost naming no client is split evenly, truncated to 4
// decimals, over the clients owned by the spender who were active during its month.
func (r *Ref) retentionAllocations() []allocation {
	var out []allocation
	for _, e := range r.w.Retention {
		m := monthOf(e.At)
		if e.Client != "" {
			if c, ok := r.byID[e.Client]; ok {
				out = append(out, allocation{c, e.Currency, m, e.Amount})
			}
			continue
		}
		var active []Client
		for _, c := range r.w.Clients {
			if c.Owner == e.Business && r.activeDuring(c, m) {
				active = append(active, c)
			}
		}
		if len(active) == 0 {
			continue
		}
		share := perClient(e.Amount, len(active))
		for _, c := range active {
			out = append(out, allocation{c, e.Currency, m, share})
		}
	}
	return out
}

func (r *Ref) netCLV(by string, until time.Time) []Row {
	// (business, month) pairs in which the business established a client
	established := map[[2]string]bool{}
	for _, c := range r.w.Clients {
		established[[2]string{c.Owner, day(monthOf(c.OwnedSince))}] = true
	}
	allocs := r.retentionAllocations()
	var out []Row
	for _, om := range r.orderMetrics(by, until) {
		dim, cur := om["dim"].(string), om["currency"].(string)
		m, _ := time.Parse(time.DateOnly, om["month"].(string))
		acquired := om["acquired_clients"].(int)
		acq := decimal.Zero
		for _, s := range r.w.Spend {
			sm := monthOf(s.At)
			if established[[2]string{s.Business, day(sm)}] && r.spendDim(by, s) == dim && s.Currency == cur && !sm.After(m) {
				acq = acq.Add(s.Amount)
			}
		}
		ret := decimal.Zero
		for _, a := range allocs {
			if r.dim(by, a.client) == dim && a.currency == cur && !a.month.After(m) {
				ret = ret.Add(a.amount)
			}
		}
		n := om["purchases"].(int)
		gross := dec(om["net_value"].(decimal.Decimal)) / float64(n) * om["frequency"].(float64) * om["lifespan_months"].(float64)
		netCLV := gross
		if acquired > 0 {
			netCLV -= (dec(acq) + dec(ret)) / float64(acquired)
		}
		row := Row{"gross_clv": gross, "acquisition_cost": acq, "acquisition_cost_per_client": perClient(acq, max(acquired, 1)),
			"retention_cost": ret, "retention_cost_per_client": perClient(ret, max(acquired, 1)), "net_clv": netCLV}
		for _, k := range []string{"dim", "month", "currency", "purchases", "net_value", "aov", "buyers", "all_purchases",
			"frequency", "lifespan_months", "acquired_clients"} {
			row[k] = om[k]
		}
		out = append(out, row)
	}
	return out
}

// costsTo returns, as net_clv computes them for month m: the clients acquired by m's end per
// dim, and the acquisition and retention cost to date per dim × currency.
func (r *Ref) costsTo(by string, m time.Time) (acquired map[string]int, acq, ret map[[2]string]decimal.Decimal) {
	acquired, acq, ret = map[string]int{}, map[[2]string]decimal.Decimal{}, map[[2]string]decimal.Decimal{}
	established := map[[2]string]bool{}
	for _, c := range r.w.Clients {
		cohort := monthOf(c.OwnedSince)
		established[[2]string{c.Owner, day(cohort)}] = true
		if !cohort.After(m) {
			acquired[r.dim(by, c)]++
		}
	}
	for _, s := range r.w.Spend {
		sm := monthOf(s.At)
		if !established[[2]string{s.Business, day(sm)}] || sm.After(m) {
			continue
		}
		k := [2]string{r.spendDim(by, s), s.Currency}
		acq[k] = acq[k].Add(s.Amount)
	}
	for _, a := range r.retentionAllocations() {
		if !a.month.After(m) {
			k := [2]string{r.dim(by, a.client), a.currency}
			ret[k] = ret[k].Add(a.amount)
		}
	}
	return acquired, acq, ret
}

// predictedNetCLV is predicted_net_clv: the predictions of asOf per dim × currency, less the
// acquisition and retention cost per client to date of asOf's month (net_clv's rules).
func (r *Ref) predictedNetCLV(by string, asOf time.Time) []Row {
	type cell struct {
		clients int
		pred    decimal.Decimal
	}
	cells := map[[2]string]*cell{}
	for _, p := range r.w.Predictions {
		c, ok := r.byID[p.Client]
		if !ok || !p.AsOf.Equal(asOf) {
			continue
		}
		k := [2]string{r.dim(by, c), p.Currency}
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		cells[k].clients++
		cells[k].pred = cells[k].pred.Add(p.PredictedCLV)
	}
	acquired, acq, ret := r.costsTo(by, monthOf(asOf))
	var out []Row
	for k, c := range cells {
		n := acquired[k[0]]
		a, rt := acq[k], ret[k]
		net := dec(c.pred) / float64(c.clients)
		if n > 0 {
			net -= (dec(a) + dec(rt)) / float64(n)
		}
		out = append(out, Row{"dim": k[0], "currency": k[1], "clients": c.clients, "predicted_clv": c.pred,
			"predicted_per_client": perClient(c.pred, c.clients), "acquired_clients": n,
			"acquisition_cost": a, "acquisition_cost_per_client": perClient(a, max(n, 1)),
			"retention_cost": rt, "retention_cost_per_client": perClient(rt, max(n, 1)), "predicted_net_clv": net})
	}
	return out
}

func (r *Ref) retentionRate(by string, until time.Time) []Row {
	type cell struct{ start, end, established int }
	cells := map[[2]string]*cell{}
	for m := monthOf(r.w.Start); !m.After(until); m = m.AddDate(0, 1, 0) {
		last := m.AddDate(0, 1, 0).Add(-time.Second)
		for _, c := range r.w.Clients {
			s, e := r.activeAt(c, m), r.activeAt(c, last)
			if !s && !e {
				continue
			}
			k := [2]string{r.dim(by, c), day(m)}
			ce := cells[k]
			if ce == nil {
				ce = &cell{}
				cells[k] = ce
			}
			if s {
				ce.start++
			}
			if e {
				ce.end++
				if !c.OwnedSince.Before(m) && !c.OwnedSince.After(last) {
					ce.established++
				}
			}
		}
	}
	var out []Row
	for k, c := range cells {
		row := Row{"dim": k[0], "month": k[1], "active_start": c.start, "active_end": c.end,
			"new_active_end": c.established, "retained": c.end - c.established, "retention_rate": nil}
		if c.start > 0 {
			row["retention_rate"] = ratio(c.end-c.established, c.start)
		}
		out = append(out, row)
	}
	return out
}
