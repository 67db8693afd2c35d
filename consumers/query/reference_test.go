package query_test

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Reference computations of every metric of the query pack, written from SPEC §3 directly
// over the generated truth, without looking at the SQL. A row maps column names to values:
// string, int, float64, decimal.Decimal, or nil for NULL.

type row map[string]any

type ref struct {
	w       *world
	byID    map[string]client
	byOwner map[string][]purchaseTruth // client id -> purchases
}

func newRef(w *world) *ref {
	r := &ref{w: w, byID: map[string]client{}, byOwner: map[string][]purchaseTruth{}}
	for _, c := range w.clients {
		r.byID[c.id] = c
	}
	for _, p := range w.purchases {
		r.byOwner[p.client] = append(r.byOwner[p.client], p)
	}
	return r
}

func monthOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func (r *ref) sector(business string) string { return r.w.businesses[business].sector }

func (r *ref) window(c client) time.Duration {
	d, ok := r.w.windows[r.sector(c.owner)]
	if !ok {
		d = 60
	}
	return time.Duration(d) * 24 * time.Hour
}

func (r *ref) dim(by string, c client) string {
	switch by {
	case "owner":
		return c.owner
	case "sector":
		return r.sector(c.owner)
	case "cohort":
		return day(monthOf(c.ownedSince))
	}
	return "platform"
}

func (r *ref) businessDim(by, business string) string {
	switch by {
	case "sector":
		return r.sector(business)
	case "platform":
		return "platform"
	}
	return business
}

func net(p purchaseTruth) decimal.Decimal { return p.amount.Sub(p.refunded) }

func perClient(v decimal.Decimal, n int) decimal.Decimal {
	return v.Div(decimal.NewFromInt(int64(n))).Truncate(4)
}

func ratio(a, b int) float64 { return float64(a) / float64(b) }

func dec(v decimal.Decimal) float64 { f, _ := v.Float64(); return f }

type key3 struct{ a, b, c string }

func (r *ref) cohortClients(by string) map[[2]string]int {
	out := map[[2]string]int{}
	for _, c := range r.w.clients {
		out[[2]string{r.dim(by, c), day(monthOf(c.ownedSince))}]++
	}
	return out
}

func (r *ref) retentionClients(by string, until time.Time) []row {
	clients := r.cohortClients(by)
	active := map[key3]map[string]bool{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		if monthOf(p.at).After(until) {
			continue
		}
		k := key3{r.dim(by, c), day(monthOf(c.ownedSince)), day(monthOf(p.at))}
		if active[k] == nil {
			active[k] = map[string]bool{}
		}
		active[k][c.id] = true
	}
	var out []row
	for dc, n := range clients {
		cohort, _ := time.Parse(time.DateOnly, dc[1])
		for k := 0; k <= monthsBetween(cohort, until); k++ {
			a := len(active[key3{dc[0], dc[1], day(cohort.AddDate(0, k, 0))}])
			out = append(out, row{"dim": dc[0], "cohort": dc[1], "k": k, "cohort_clients": n, "active_clients": a, "retention": ratio(a, n)})
		}
	}
	return out
}

func (r *ref) retentionValue(by string, until time.Time) []row {
	clients := r.cohortClients(by)
	type cell struct {
		dim, cohort, currency string
		k                     int
	}
	sums := map[cell]decimal.Decimal{}
	groups := map[key3]bool{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		if monthOf(p.at).After(until) {
			continue
		}
		cohort := monthOf(c.ownedSince)
		ce := cell{r.dim(by, c), day(cohort), p.currency, monthsBetween(cohort, p.at)}
		sums[ce] = sums[ce].Add(net(p))
		groups[key3{ce.dim, ce.cohort, ce.currency}] = true
	}
	var out []row
	for g := range groups {
		cohort, _ := time.Parse(time.DateOnly, g.b)
		n := clients[[2]string{g.a, g.b}]
		v0 := sums[cell{g.a, g.b, g.c, 0}]
		for k := 0; k <= monthsBetween(cohort, until); k++ {
			v := sums[cell{g.a, g.b, g.c, k}]
			var share any
			if !v0.IsZero() {
				share = dec(v) / dec(v0)
			}
			out = append(out, row{"dim": g.a, "cohort": g.b, "currency": g.c, "k": k, "cohort_clients": n,
				"net_value": v, "net_value_per_client": perClient(v, n), "value_retention": share})
		}
	}
	return out
}

func (r *ref) realizedCLV(by string, until time.Time) []row {
	clients := r.cohortClients(by)
	type acc struct{ direct, indirect, comm decimal.Decimal }
	groups := map[key3][]purchaseTruth{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		if monthOf(p.at).After(until) {
			continue
		}
		g := key3{r.dim(by, c), day(monthOf(c.ownedSince)), p.currency}
		groups[g] = append(groups[g], p)
	}
	var out []row
	for g, ps := range groups {
		cohort, _ := time.Parse(time.DateOnly, g.b)
		n := clients[[2]string{g.a, g.b}]
		for k := 0; k <= monthsBetween(cohort, until); k++ {
			var a acc
			for _, p := range ps {
				if monthsBetween(cohort, p.at) > k {
					continue
				}
				if p.provider == r.byID[p.client].owner {
					a.direct = a.direct.Add(net(p))
				} else {
					a.indirect = a.indirect.Add(net(p))
				}
				a.comm = a.comm.Add(p.commission)
			}
			ov := a.direct.Add(a.comm)
			out = append(out, row{"dim": g.a, "cohort": g.b, "currency": g.c, "k": k, "cohort_clients": n,
				"direct_value": a.direct, "indirect_value": a.indirect, "commissions": a.comm, "owner_value": ov,
				"direct_per_client": perClient(a.direct, n), "indirect_per_client": perClient(a.indirect, n),
				"commissions_per_client": perClient(a.comm, n), "owner_value_per_client": perClient(ov, n)})
		}
	}
	return out
}

func (r *ref) orderMetrics(by string, until time.Time) []row {
	type cell struct{ dim, month, currency string }
	count := map[cell]int{}
	value := map[cell]decimal.Decimal{}
	buyers := map[[2]string]map[string]bool{}
	all := map[[2]string]int{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		m := monthOf(p.at)
		if m.After(until) {
			continue
		}
		ce := cell{r.dim(by, c), day(m), p.currency}
		count[ce]++
		value[ce] = value[ce].Add(net(p))
		dm := [2]string{ce.dim, ce.month}
		if buyers[dm] == nil {
			buyers[dm] = map[string]bool{}
		}
		buyers[dm][c.id] = true
		all[dm]++
	}
	var out []row
	for ce, n := range count {
		m, _ := time.Parse(time.DateOnly, ce.month)
		end := m.AddDate(0, 1, 0)
		dm := [2]string{ce.dim, ce.month}
		// lifespan so far of every client of the dim who bought before the month's end
		total, clients := 0, 0
		for _, c := range r.w.clients {
			if r.dim(by, c) != ce.dim {
				continue
			}
			var first, last time.Time
			for _, p := range r.byOwner[c.id] {
				if !p.at.Before(end) {
					continue
				}
				pm := monthOf(p.at)
				if first.IsZero() || pm.Before(first) {
					first = pm
				}
				if pm.After(last) {
					last = pm
				}
			}
			if !first.IsZero() {
				total += monthsBetween(first, last) + 1
				clients++
			}
		}
		lifespan := ratio(total, clients)
		spend := decimal.Zero
		for _, s := range r.w.spend {
			var sd string
			switch by {
			case "owner":
				sd = s.business
			case "sector":
				sd = r.sector(s.business)
			case "cohort":
				sd = day(monthOf(s.at))
			default:
				sd = "platform"
			}
			if sd == ce.dim && s.currency == ce.currency && s.at.Before(end) {
				spend = spend.Add(s.amount)
			}
		}
		acquired := 0
		for _, c := range r.w.clients {
			if r.dim(by, c) == ce.dim && c.ownedSince.Before(end) {
				acquired++
			}
		}
		cac, cacF := decimal.Zero, 0.0
		if acquired > 0 {
			cac = perClient(spend, acquired)
			cacF = dec(spend) / float64(acquired)
		}
		freq := ratio(all[dm], len(buyers[dm]))
		out = append(out, row{"dim": ce.dim, "month": ce.month, "currency": ce.currency, "purchases": n,
			"net_value": value[ce], "aov": perClient(value[ce], n), "buyers": len(buyers[dm]), "all_purchases": all[dm],
			"frequency": freq, "lifespan_months": lifespan, "acquisition_spend": spend, "acquired_clients": acquired,
			"cac": cac, "clv": dec(value[ce])/float64(n)*freq*lifespan - cacF})
	}
	return out
}

func (r *ref) repeatPurchaseRate(by string, until time.Time) []row {
	n := map[[2]string]map[string]int{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		if monthOf(p.at).After(until) {
			continue
		}
		k := [2]string{r.dim(by, c), day(monthOf(p.at))}
		if n[k] == nil {
			n[k] = map[string]int{}
		}
		n[k][c.id]++
	}
	var out []row
	for k, per := range n {
		rep := 0
		for _, v := range per {
			if v >= 2 {
				rep++
			}
		}
		out = append(out, row{"dim": k[0], "month": k[1], "buyers": len(per), "repeat_buyers": rep, "repeat_purchase_rate": ratio(rep, len(per))})
	}
	return out
}

// activeAt reports whether client c made a purchase in [t - window, t].
func (r *ref) activeAt(c client, t time.Time) bool {
	for _, p := range r.byOwner[c.id] {
		if !p.at.Before(t.Add(-r.window(c))) && !p.at.After(t) {
			return true
		}
	}
	return false
}

type churnCell struct {
	active, retained int
}

// churn returns, per (dim, month), the clients active at the month's first instant and how
// many of them are active at its last second.
func (r *ref) churn(dimOf func(client) string, until time.Time) map[[2]string]churnCell {
	out := map[[2]string]churnCell{}
	for m := genStart; !m.After(until); m = m.AddDate(0, 1, 0) {
		last := m.AddDate(0, 1, 0).Add(-time.Second)
		for _, c := range r.w.clients {
			if !r.activeAt(c, m) {
				continue
			}
			k := [2]string{dimOf(c), day(m)}
			cc := out[k]
			cc.active++
			if r.activeAt(c, last) {
				cc.retained++
			}
			out[k] = cc
		}
	}
	return out
}

type valueCell struct{ net, owner decimal.Decimal }

func (r *ref) monthValues(dimOf func(client) string) map[key3]valueCell {
	out := map[key3]valueCell{}
	for _, p := range r.w.purchases {
		c := r.byID[p.client]
		k := key3{dimOf(c), day(monthOf(p.at)), p.currency}
		v := out[k]
		v.net = v.net.Add(net(p))
		if p.provider == c.owner {
			v.owner = v.owner.Add(net(p))
		}
		v.owner = v.owner.Add(p.commission)
		out[k] = v
	}
	return out
}

func (r *ref) churnLTV(by string, until time.Time) []row {
	dimOf := func(c client) string { return r.dim(by, c) }
	values := r.monthValues(dimOf)
	var out []row
	for k, cc := range r.churn(dimOf, until) {
		churned := cc.active - cc.retained
		rate := ratio(churned, cc.active)
		base := row{"dim": k[0], "month": k[1], "active_start": cc.active, "retained": cc.retained, "churned": churned, "churn_rate": rate}
		found := false
		for vk, v := range values {
			if vk.a != k[0] || vk.b != k[1] {
				continue
			}
			found = true
			out = append(out, withValues(base, vk.c, v, cc.active, rate))
		}
		if !found {
			out = append(out, withValues(base, "", valueCell{}, cc.active, rate))
		}
	}
	return out
}

func withValues(base row, currency string, v valueCell, active int, rate float64) row {
	out := row{"currency": currency, "net_value": v.net, "owner_value": v.owner,
		"ampu": perClient(v.net, active), "owner_ampu": perClient(v.owner, active), "ltv": nil, "owner_ltv": nil}
	if rate != 0 {
		out["ltv"] = dec(v.net) / float64(active) / rate
		out["owner_ltv"] = dec(v.owner) / float64(active) / rate
	}
	for k, x := range base {
		out[k] = x
	}
	return out
}

func (r *ref) stage(c client, at time.Time) (stage string, times []time.Time) {
	for _, p := range r.byOwner[c.id] {
		if !p.at.After(at) {
			times = append(times, p.at)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	n := len(times)
	switch {
	case n == 0:
		return "potential", times
	case !r.activeAt(c, at):
		return "former", times
	case n == 1:
		return "one_time", times
	case times[n-1].Sub(times[n-2]) > r.window(c):
		return "returning", times
	}
	return "regular", times
}

func (r *ref) lifecycleStage(at time.Time) []row {
	var out []row
	epoch := time.Unix(0, 0).UTC()
	for _, c := range r.w.clients {
		if c.ownedSince.After(at) {
			continue
		}
		st, times := r.stage(c, at)
		first, last := epoch, epoch
		if len(times) > 0 {
			first, last = times[0], times[len(times)-1]
		}
		out = append(out, row{"client_id": c.id, "owner_business_id": c.owner, "sector": r.sector(c.owner),
			"cohort": day(monthOf(c.ownedSince)), "purchases": len(times), "first_purchase_at": first.Format(time.DateTime),
			"last_purchase_at": last.Format(time.DateTime), "stage": st})
	}
	return out
}

func (r *ref) lifecycleCounts(by string, at time.Time) []row {
	n := map[[2]string]int{}
	for _, c := range r.w.clients {
		if c.ownedSince.After(at) {
			continue
		}
		st, _ := r.stage(c, at)
		n[[2]string{r.dim(by, c), st}]++
	}
	var out []row
	for k, v := range n {
		out = append(out, row{"dim": k[0], "stage": k[1], "clients": v})
	}
	return out
}

func (r *ref) npsCSAT(by string) []row {
	type agg struct{ nps, prom, det, csat, sat int }
	m := map[[2]string]*agg{}
	for _, f := range r.w.feedback {
		k := [2]string{r.businessDim(by, f.business), day(monthOf(f.at))}
		if m[k] == nil {
			m[k] = &agg{}
		}
		a := m[k]
		if f.kind == "nps" {
			a.nps++
			if f.score >= 9 {
				a.prom++
			} else if f.score <= 6 {
				a.det++
			}
		} else {
			a.csat++
			if f.score >= 4 {
				a.sat++
			}
		}
	}
	var out []row
	for k, a := range m {
		rw := row{"dim": k[0], "month": k[1], "nps_answers": a.nps, "promoters": a.prom, "detractors": a.det, "nps": nil,
			"csat_answers": a.csat, "satisfied": a.sat, "csat": nil}
		if a.nps > 0 {
			rw["nps"] = 100 * float64(a.prom-a.det) / float64(a.nps)
		}
		if a.csat > 0 {
			rw["csat"] = 100 * float64(a.sat) / float64(a.csat)
		}
		out = append(out, rw)
	}
	return out
}

func (r *ref) rejectedClaims(by string) []row {
	n := map[[2]string]int{}
	cl := map[[2]string]map[string]bool{}
	for _, e := range r.w.enrollments {
		if e.business == r.byID[e.client].owner {
			continue
		}
		k := [2]string{r.businessDim(by, e.business), day(monthOf(e.at))}
		n[k]++
		if cl[k] == nil {
			cl[k] = map[string]bool{}
		}
		cl[k][e.client] = true
	}
	var out []row
	for k, v := range n {
		out = append(out, row{"dim": k[0], "month": k[1], "rejected_claims": v, "clients": len(cl[k])})
	}
	return out
}

func (r *ref) cacLTV(by string) []row {
	dimOf := func(c client) string { return r.businessDim(by, c.owner) }
	spend := map[key3]decimal.Decimal{}
	for _, s := range r.w.spend {
		k := key3{r.businessDim(by, s.business), day(monthOf(s.at)), s.currency}
		spend[k] = spend[k].Add(s.amount)
	}
	newClients := map[[2]string]int{}
	for _, c := range r.w.clients {
		newClients[[2]string{dimOf(c), day(monthOf(c.ownedSince))}]++
	}
	churn := r.churn(dimOf, genEnd.AddDate(1, 0, 0))
	values := r.monthValues(dimOf)
	var out []row
	for k, s := range spend {
		nc := newClients[[2]string{k.a, k.b}]
		rw := row{"dim": k.a, "month": k.b, "currency": k.c, "acquisition_spend": s, "new_clients": nc, "cac": nil, "ltv": nil, "ltv_to_cac": nil}
		if nc > 0 {
			rw["cac"] = perClient(s, nc)
		}
		cc := churn[[2]string{k.a, k.b}]
		v, ok := values[k]
		if ok && cc.active > 0 && cc.retained < cc.active {
			val := v.owner
			if by == "platform" {
				val = v.net
			}
			ltv := dec(val) / float64(cc.active) / ratio(cc.active-cc.retained, cc.active)
			rw["ltv"] = ltv
			if nc > 0 && !s.IsZero() {
				rw["ltv_to_cac"] = ltv / (dec(s) / float64(nc))
			}
		}
		out = append(out, rw)
	}
	return out
}
