package querytest

import (
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Reference computations of every metric of the query pack, written from SPEC §3 directly
// over a World, without looking at the SQL. Each method is named after its query.

// Row is one result row: column name to value, a string (dates as 2006-01-02, date-times as
// 2006-01-02 15:04:05), int, float64, decimal.Decimal, or nil for NULL.
type Row map[string]any

// Ref computes every metric of the pack over a World.
type Ref struct {
	w       *World
	byID    map[string]Client
	byOwner map[string][]Purchase // client id -> purchases
}

// dateTimeCeiling is the last second of ClickHouse 18.16's calendar (it ends with 2105): the sink stores a
// later event time (valid until 2200, SPEC R8) saturated at it in the DateTime columns the
// queries read, the exact time in the *_unix companions (sql/migrations/0120_exact_times.sql).
var dateTimeCeiling = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)

// asStored returns t as the query pack sees it: saturated at dateTimeCeiling.
func asStored(t time.Time) time.Time {
	if t.After(dateTimeCeiling) {
		return dateTimeCeiling
	}
	return t
}

// storedWorld returns a copy of w with every event time as the query pack sees it, so that the
// reference buckets events after the ceiling where the SQL does (in the month 2105-12).
func storedWorld(w *World) *World {
	c := *w
	c.Clients = storedTimes(w.Clients, func(v *Client) *time.Time { return &v.OwnedSince })
	c.Purchases = storedTimes(w.Purchases, func(v *Purchase) *time.Time { return &v.At })
	c.Enrollments = storedTimes(w.Enrollments, func(v *Enrollment) *time.Time { return &v.At })
	c.Feedback = storedTimes(w.Feedback, func(v *Feedback) *time.Time { return &v.At })
	c.Spend = storedTimes(w.Spend, func(v *Spend) *time.Time { return &v.At })
	c.Retention = storedTimes(w.Retention, func(v *RetentionSpend) *time.Time { return &v.At })
	return &c
}

// storedTimes returns a copy of s with the time at(v) of every element as stored (asStored).
func storedTimes[T any](s []T, at func(*T) *time.Time) []T {
	s = slices.Clone(s)
	for i := range s {
		t := at(&s[i])
		*t = asStored(*t)
	}
	return s
}

// NewRef indexes w (its times as stored, storedWorld); w must not change afterwards.
func NewRef(w *World) *Ref {
	w = storedWorld(w)
	r := &Ref{w: w, byID: map[string]Client{}, byOwner: map[string][]Purchase{}}
	for _, c := range w.Clients {
		r.byID[c.ID] = c
	}
	for _, p := range w.Purchases {
		r.byOwner[p.Client] = append(r.byOwner[p.Client], p)
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

func (r *Ref) sector(business string) string { return r.w.Businesses[business].Sector }

func (r *Ref) window(c Client) time.Duration {
	d, ok := r.w.Windows[r.sector(c.Owner)]
	if !ok {
		d = 60
	}
	return time.Duration(d) * 24 * time.Hour
}

func (r *Ref) dim(by string, c Client) string { return r.dimAt(by, c.Owner, c.OwnedSince) }

// spendDim is the dimension value of by for acquisition spend s.
func (r *Ref) spendDim(by string, s Spend) string { return r.dimAt(by, s.Business, s.At) }

// dimAt is the dimension value of by for an owner business and, for cohorts, a time.
func (r *Ref) dimAt(by, business string, at time.Time) string {
	switch by {
	case "owner":
		return business
	case "sector":
		return r.sector(business)
	case "cohort":
		return day(monthOf(at))
	}
	return "platform"
}

func (r *Ref) businessDim(by, business string) string {
	switch by {
	case "sector":
		return r.sector(business)
	case "platform":
		return "platform"
	}
	return business
}

func net(p Purchase) decimal.Decimal { return p.Amount.Sub(p.Refunded) }

func perClient(v decimal.Decimal, n int) decimal.Decimal {
	return v.Div(decimal.NewFromInt(int64(n))).Truncate(4)
}

func ratio(a, b int) float64 { return float64(a) / float64(b) }

func dec(v decimal.Decimal) float64 { f, _ := v.Float64(); return f }

type key3 struct{ a, b, c string }

func (r *Ref) cohortClients(by string) map[[2]string]int {
	out := map[[2]string]int{}
	for _, c := range r.w.Clients {
		out[[2]string{r.dim(by, c), day(monthOf(c.OwnedSince))}]++
	}
	return out
}

func (r *Ref) retentionClients(by string, until time.Time) []Row {
	clients := r.cohortClients(by)
	active := map[key3]map[string]bool{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		if monthOf(p.At).After(until) {
			continue
		}
		k := key3{r.dim(by, c), day(monthOf(c.OwnedSince)), day(monthOf(p.At))}
		if active[k] == nil {
			active[k] = map[string]bool{}
		}
		active[k][c.ID] = true
	}
	var out []Row
	for dc, n := range clients {
		cohort, _ := time.Parse(time.DateOnly, dc[1])
		for k := 0; k <= monthsBetween(cohort, until); k++ {
			a := len(active[key3{dc[0], dc[1], day(cohort.AddDate(0, k, 0))}])
			out = append(out, Row{"dim": dc[0], "cohort": dc[1], "k": k, "cohort_clients": n, "active_clients": a, "retention": ratio(a, n)})
		}
	}
	return out
}

func (r *Ref) retentionValue(by string, until time.Time) []Row {
	clients := r.cohortClients(by)
	type cell struct {
		dim, cohort, currency string
		k                     int
	}
	sums := map[cell]decimal.Decimal{}
	groups := map[key3]bool{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		if monthOf(p.At).After(until) {
			continue
		}
		cohort := monthOf(c.OwnedSince)
		ce := cell{r.dim(by, c), day(cohort), p.Currency, monthsBetween(cohort, p.At)}
		sums[ce] = sums[ce].Add(net(p))
		groups[key3{ce.dim, ce.cohort, ce.currency}] = true
	}
	var out []Row
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
			out = append(out, Row{"dim": g.a, "cohort": g.b, "currency": g.c, "k": k, "cohort_clients": n,
				"net_value": v, "net_value_per_client": perClient(v, n), "value_retention": share})
		}
	}
	return out
}

func (r *Ref) realizedCLV(by string, until time.Time) []Row {
	clients := r.cohortClients(by)
	type acc struct{ direct, indirect, comm decimal.Decimal }
	groups := map[key3][]Purchase{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		if monthOf(p.At).After(until) {
			continue
		}
		g := key3{r.dim(by, c), day(monthOf(c.OwnedSince)), p.Currency}
		groups[g] = append(groups[g], p)
	}
	var out []Row
	for g, ps := range groups {
		cohort, _ := time.Parse(time.DateOnly, g.b)
		n := clients[[2]string{g.a, g.b}]
		for k := 0; k <= monthsBetween(cohort, until); k++ {
			var a acc
			for _, p := range ps {
				if monthsBetween(cohort, p.At) > k {
					continue
				}
				if p.Provider == r.byID[p.Client].Owner {
					a.direct = a.direct.Add(net(p))
				} else {
					a.indirect = a.indirect.Add(net(p))
				}
				a.comm = a.comm.Add(p.Commission)
			}
			ov := a.direct.Add(a.comm)
			out = append(out, Row{"dim": g.a, "cohort": g.b, "currency": g.c, "k": k, "cohort_clients": n,
				"direct_value": a.direct, "indirect_value": a.indirect, "commissions": a.comm, "owner_value": ov,
				"direct_per_client": perClient(a.direct, n), "indirect_per_client": perClient(a.indirect, n),
				"commissions_per_client": perClient(a.comm, n), "owner_value_per_client": perClient(ov, n)})
		}
	}
	return out
}

func (r *Ref) orderMetrics(by string, until time.Time) []Row {
	type cell struct{ dim, month, currency string }
	count := map[cell]int{}
	value := map[cell]decimal.Decimal{}
	buyers := map[[2]string]map[string]bool{}
	all := map[[2]string]int{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		m := monthOf(p.At)
		if m.After(until) {
			continue
		}
		ce := cell{r.dim(by, c), day(m), p.Currency}
		count[ce]++
		value[ce] = value[ce].Add(net(p))
		dm := [2]string{ce.dim, ce.month}
		if buyers[dm] == nil {
			buyers[dm] = map[string]bool{}
		}
		buyers[dm][c.ID] = true
		all[dm]++
	}
	var out []Row
	for ce, n := range count {
		m, _ := time.Parse(time.DateOnly, ce.month)
		end := m.AddDate(0, 1, 0)
		dm := [2]string{ce.dim, ce.month}
		lifespan := r.lifespan(by, ce.dim, end)
		spend := r.spendBefore(by, ce.dim, ce.currency, end)
		acquired := 0
		for _, c := range r.w.Clients {
			if r.dim(by, c) == ce.dim && c.OwnedSince.Before(end) {
				acquired++
			}
		}
		cac, cacF := decimal.Zero, 0.0
		if acquired > 0 {
			cac = perClient(spend, acquired)
			cacF = dec(spend) / float64(acquired)
		}
		freq := ratio(all[dm], len(buyers[dm]))
		out = append(out, Row{"dim": ce.dim, "month": ce.month, "currency": ce.currency, "purchases": n,
			"net_value": value[ce], "aov": perClient(value[ce], n), "buyers": len(buyers[dm]), "all_purchases": all[dm],
			"frequency": freq, "lifespan_months": lifespan, "acquisition_spend": spend, "acquired_clients": acquired,
			"cac": cac, "clv": dec(value[ce])/float64(n)*freq*lifespan - cacF})
	}
	return out
}

// lifespan is the mean lifespan so far, in months, of every client of dim (under by) who
// bought before end.
func (r *Ref) lifespan(by, dim string, end time.Time) float64 {
	total, clients := 0, 0
	for _, c := range r.w.Clients {
		if r.dim(by, c) != dim {
			continue
		}
		var first, last time.Time
		for _, p := range r.byOwner[c.ID] {
			if !p.At.Before(end) {
				continue
			}
			pm := monthOf(p.At)
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
	return ratio(total, clients)
}

// spendBefore is the acquisition spend of dim (under by) in currency before end.
func (r *Ref) spendBefore(by, dim, currency string, end time.Time) decimal.Decimal {
	spend := decimal.Zero
	for _, s := range r.w.Spend {
		if r.spendDim(by, s) == dim && s.Currency == currency && s.At.Before(end) {
			spend = spend.Add(s.Amount)
		}
	}
	return spend
}

func (r *Ref) repeatPurchaseRate(by string, until time.Time) []Row {
	n := map[[2]string]map[string]int{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		if monthOf(p.At).After(until) {
			continue
		}
		k := [2]string{r.dim(by, c), day(monthOf(p.At))}
		if n[k] == nil {
			n[k] = map[string]int{}
		}
		n[k][c.ID]++
	}
	var out []Row
	for k, per := range n {
		rep := 0
		for _, v := range per {
			if v >= 2 {
				rep++
			}
		}
		out = append(out, Row{"dim": k[0], "month": k[1], "buyers": len(per), "repeat_buyers": rep, "repeat_purchase_rate": ratio(rep, len(per))})
	}
	return out
}

// activeAt reports whether Client c made a purchase in [t - window, t].
func (r *Ref) activeAt(c Client, t time.Time) bool {
	for _, p := range r.byOwner[c.ID] {
		if !p.At.Before(t.Add(-r.window(c))) && !p.At.After(t) {
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
func (r *Ref) churn(dimOf func(Client) string, until time.Time) map[[2]string]churnCell {
	out := map[[2]string]churnCell{}
	for m := monthOf(r.w.Start); !m.After(until); m = m.AddDate(0, 1, 0) {
		last := m.AddDate(0, 1, 0).Add(-time.Second)
		for _, c := range r.w.Clients {
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

func (r *Ref) monthValues(dimOf func(Client) string) map[key3]valueCell {
	out := map[key3]valueCell{}
	for _, p := range r.w.Purchases {
		c := r.byID[p.Client]
		k := key3{dimOf(c), day(monthOf(p.At)), p.Currency}
		v := out[k]
		v.net = v.net.Add(net(p))
		if p.Provider == c.Owner {
			v.owner = v.owner.Add(net(p))
		}
		v.owner = v.owner.Add(p.Commission)
		out[k] = v
	}
	return out
}

func (r *Ref) churnLTV(by string, until time.Time) []Row {
	dimOf := func(c Client) string { return r.dim(by, c) }
	values := r.monthValues(dimOf)
	var out []Row
	for k, cc := range r.churn(dimOf, until) {
		churned := cc.active - cc.retained
		rate := ratio(churned, cc.active)
		base := Row{"dim": k[0], "month": k[1], "active_start": cc.active, "retained": cc.retained, "churned": churned, "churn_rate": rate}
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

func withValues(base Row, currency string, v valueCell, active int, rate float64) Row {
	out := Row{"currency": currency, "net_value": v.net, "owner_value": v.owner,
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

func (r *Ref) stage(c Client, at time.Time) (stage string, times []time.Time) {
	for _, p := range r.byOwner[c.ID] {
		if !p.At.After(at) {
			times = append(times, p.At)
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

func (r *Ref) lifecycleStage(at time.Time) []Row {
	var out []Row
	for _, c := range r.w.Clients {
		if c.OwnedSince.After(at) {
			continue
		}
		st, times := r.stage(c, at)
		// NULL (nil) for a client without a purchase: never a zero date, which 18.16 and
		// current ClickHouse print differently.
		var first, last any
		if len(times) > 0 {
			first, last = times[0].Format(time.DateTime), times[len(times)-1].Format(time.DateTime)
		}
		out = append(out, Row{"client_id": c.ID, "owner_business_id": c.Owner, "sector": r.sector(c.Owner),
			"cohort": day(monthOf(c.OwnedSince)), "purchases": len(times), "first_purchase_at": first,
			"last_purchase_at": last, "stage": st})
	}
	return out
}

func (r *Ref) lifecycleCounts(by string, at time.Time) []Row {
	n := map[[2]string]int{}
	for _, c := range r.w.Clients {
		if c.OwnedSince.After(at) {
			continue
		}
		st, _ := r.stage(c, at)
		n[[2]string{r.dim(by, c), st}]++
	}
	var out []Row
	for k, v := range n {
		out = append(out, Row{"dim": k[0], "stage": k[1], "clients": v})
	}
	return out
}

func (r *Ref) npsCSAT(by string) []Row {
	type agg struct{ nps, prom, det, csat, sat int }
	m := map[[2]string]*agg{}
	for _, f := range r.w.Feedback {
		k := [2]string{r.businessDim(by, f.Business), day(monthOf(f.At))}
		if m[k] == nil {
			m[k] = &agg{}
		}
		a := m[k]
		if f.Kind == "nps" {
			a.nps++
			if f.Score >= 9 {
				a.prom++
			} else if f.Score <= 6 {
				a.det++
			}
		} else {
			a.csat++
			if f.Score >= 4 {
				a.sat++
			}
		}
	}
	var out []Row
	for k, a := range m {
		rw := Row{"dim": k[0], "month": k[1], "nps_answers": a.nps, "promoters": a.prom, "detractors": a.det, "nps": nil,
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

func (r *Ref) rejectedClaims(by string) []Row {
	n := map[[2]string]int{}
	cl := map[[2]string]map[string]bool{}
	for _, e := range r.w.Enrollments {
		c, ok := r.byID[e.Client]
		if !ok || e.Business == c.Owner {
			continue
		}
		k := [2]string{r.businessDim(by, e.Business), day(monthOf(e.At))}
		n[k]++
		if cl[k] == nil {
			cl[k] = map[string]bool{}
		}
		cl[k][e.Client] = true
	}
	var out []Row
	for k, v := range n {
		out = append(out, Row{"dim": k[0], "month": k[1], "rejected_claims": v, "clients": len(cl[k])})
	}
	return out
}

func (r *Ref) cacLTV(by string) []Row {
	dimOf := func(c Client) string { return r.businessDim(by, c.Owner) }
	spend := map[key3]decimal.Decimal{}
	for _, s := range r.w.Spend {
		k := key3{r.businessDim(by, s.Business), day(monthOf(s.At)), s.Currency}
		spend[k] = spend[k].Add(s.Amount)
	}
	newClients := map[[2]string]int{}
	for _, c := range r.w.Clients {
		newClients[[2]string{dimOf(c), day(monthOf(c.OwnedSince))}]++
	}
	churn := r.churn(dimOf, r.w.End.AddDate(1, 0, 0))
	values := r.monthValues(dimOf)
	var out []Row
	for k, s := range spend {
		nc := newClients[[2]string{k.a, k.b}]
		rw := Row{"dim": k.a, "month": k.b, "currency": k.c, "acquisition_spend": s, "new_clients": nc, "cac": nil, "ltv": nil, "ltv_to_cac": nil}
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

func (r *Ref) dlqCounts() []Row {
	n := map[key3]int{}
	for _, d := range r.w.DeadLetters {
		n[key3{d.Consumer, d.Topic, d.Reason}]++
	}
	var out []Row
	for k, v := range n {
		out = append(out, Row{"consumer": k.a, "source_topic": k.b, "reason": k.c, "dead_letters": v})
	}
	return out
}
