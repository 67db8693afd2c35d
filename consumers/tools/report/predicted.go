package report

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"math"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
)

// Predicted is the predicted-CLV panel (from `taskole predict`): per cohort and currency, the
// realized value per client up to AsOf against the predicted CLV per client of the next 365
// days (predicted_clv by cohort), and the distribution of P(alive) (p_alive_distribution).
type Predicted struct {
	AsOf    time.Time
	Cohorts []PredictedCohort
	PAlive  [10]int64 // accounts per tenth of P(alive)
}

// PredictedCohort is one row of predicted_clv by cohort.
type PredictedCohort struct {
	Cohort          time.Time
	Currency        string
	Clients         int64
	MeanPAlive      float64
	RealizedPerCl   decimal.Decimal
	PredictedPerCl  decimal.Decimal
	ExpectedCommiss decimal.Decimal
	// Net is predicted_net_clv by cohort: the predicted CLV per client less the acquisition
	// and retention cost per client to date (net_clv's rules); HasNet is false without a row.
	Net    float64
	HasNet bool
}

// loadPredicted fills d.Predicted from the latest as-of date in client_predictions; it leaves
// it nil when there are no predictions.
func loadPredicted(ctx context.Context, conn driver.Conn, run packRun, d *Data) error {
	var n uint64
	var asOf time.Time
	if err := conn.QueryRow(ctx, "SELECT count(), max(as_of) FROM client_predictions").Scan(&n, &asOf); err != nil {
		return fmt.Errorf("finding the latest predictions: %w", err)
	}
	if n == 0 {
		return nil
	}
	p := &Predicted{AsOf: asOf}
	params := map[string]string{"as_of": asOf.Format(time.DateOnly), "by": "cohort"}
	err := run.each("predicted_clv", params, func(r row) {
		c, perr := time.Parse(time.DateOnly, r.str("dim"))
		if perr != nil {
			r.fail("dim", r.str("dim"))
			return
		}
		p.Cohorts = append(p.Cohorts, PredictedCohort{Cohort: c, Currency: r.str("currency"), Clients: r.int("clients"),
			MeanPAlive: r.float("mean_p_alive"), RealizedPerCl: r.dec("realized_per_client"),
			PredictedPerCl: r.dec("predicted_per_client"), ExpectedCommiss: r.dec("expected_commissions")})
	})
	if err != nil {
		return err
	}
	net := map[[2]string]float64{}
	if err := run.each("predicted_net_clv", params, func(r row) { net[[2]string{r.str("dim"), r.str("currency")}] = r.float("predicted_net_clv") }); err != nil {
		return err
	}
	for i, c := range p.Cohorts {
		p.Cohorts[i].Net, p.Cohorts[i].HasNet = net[[2]string{c.Cohort.Format(time.DateOnly), c.Currency}]
	}
	if err := run.each("p_alive_distribution", map[string]string{"as_of": params["as_of"]}, func(r row) {
		if b := r.int("bin"); b >= 0 && b < 10 {
			p.PAlive[b] += r.int("clients")
		}
	}); err != nil {
		return err
	}
	d.Predicted = p
	return nil
}

type predictedView struct {
	AsOf          string
	Chart, PAlive template.HTML
	Rows          []predictedRow
}

type predictedRow struct{ Cohort, Currency, Clients, PAlive, Realized, Predicted, Net, Commissions string }

func predictedViewOf(p *Predicted, cur string) *predictedView {
	if p == nil {
		return nil
	}
	v := &predictedView{AsOf: p.AsOf.Format(time.DateOnly), Chart: predictedChart(p.Cohorts, cur), PAlive: pAliveChart(p.PAlive)}
	rows := slices.Clone(p.Cohorts)
	slices.SortFunc(rows, func(a, b PredictedCohort) int {
		return cmp.Or(a.Cohort.Compare(b.Cohort), cmp.Compare(a.Currency, b.Currency))
	})
	for _, c := range rows {
		v.Rows = append(v.Rows, predictedRow{Cohort: monthLabel(c.Cohort), Currency: c.Currency, Clients: fmt.Sprint(c.Clients),
			PAlive: fmt.Sprintf("%.2f", c.MeanPAlive), Realized: money(c.RealizedPerCl, c.Currency),
			Predicted: money(c.PredictedPerCl, c.Currency), Net: netMoney(c), Commissions: money(c.ExpectedCommiss, c.Currency)})
	}
	return v
}

// netMoney formats the predicted net CLV per client (a Float64 estimate) in its currency's
// minor unit, or "–" without a net figure.
func netMoney(c PredictedCohort) string {
	if !c.HasNet || math.IsNaN(c.Net) || math.IsInf(c.Net, 0) {
		return "–"
	}
	return money(decimal.NewFromFloat(c.Net), c.Currency)
}

// predictedChart draws, per cohort in currency cur, two bars: realized value per client so far
// and predicted CLV per client over the next 365 days.
func predictedChart(cs []PredictedCohort, cur string) template.HTML {
	var rows []PredictedCohort
	maxV := 0.0
	for _, c := range cs {
		if c.Currency != cur {
			continue
		}
		rows = append(rows, c)
		maxV = math.Max(maxV, math.Max(c.RealizedPerCl.InexactFloat64(), c.PredictedPerCl.InexactFloat64()))
	}
	if len(rows) == 0 {
		return emptyChart("predicted-chart", "No predictions in "+cur+".")
	}
	slices.SortFunc(rows, func(a, b PredictedCohort) int { return a.Cohort.Compare(b.Cohort) })
	const w, h, left, right, top, bottom = 760, 340, 70, 150, 20, 60
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	step := niceStep(maxV, 5)
	yMax := math.Max(step, math.Ceil(maxV/step)*step)
	y := func(v float64) float64 { return float64(top) + ph*(1-v/yMax) }
	slot := pw / float64(len(rows))
	bw := math.Max(2, slot*0.35)
	var b svgBuilder
	b.f(`<svg class="chart predicted-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Predicted against realized CLV per cohort">`, w, h, w, h)
	b.f(`<title>Realized value and predicted CLV per cohort client (%s)</title>`, esc(cur))
	for v := 0.0; v <= yMax+step/2; v += step {
		b.f(`<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6e8"/>`, left, w-right, y(v), y(v))
		b.f(`<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(axisNumber(v)))
	}
	for i, c := range rows {
		x0 := float64(left) + slot*float64(i) + slot*0.15
		rv, pv := c.RealizedPerCl.InexactFloat64(), c.PredictedPerCl.InexactFloat64()
		b.f(`<rect class="bar bar-realized" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#0b3d35"><title>%s realized %s %s per client</title></rect>`,
			x0, y(rv), bw, y(0)-y(rv), esc(monthLabel(c.Cohort)), esc(money(c.RealizedPerCl, cur)), esc(cur))
		b.f(`<rect class="bar bar-predicted" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#e08a1e"><title>%s predicted %s %s per client</title></rect>`,
			x0+bw, y(pv), bw, y(0)-y(pv), esc(monthLabel(c.Cohort)), esc(money(c.PredictedPerCl, cur)), esc(cur))
		if slot < 64 { // many cohorts: slanted labels do not overlap
			b.f(`<text class="tick" x="%.1f" y="%d" text-anchor="end" transform="rotate(-35 %.1f %d)">%s</text>`,
				x0+bw, h-bottom+14, x0+bw, h-bottom+14, esc(monthLabel(c.Cohort)))
		} else {
			b.f(`<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x0+bw, h-bottom+16, esc(monthLabel(c.Cohort)))
		}
	}
	b.f(`<text class="axis-title" x="12" y="%d" transform="rotate(-90 12 %d)">%s per client</text>`, top+int(ph/2)+40, top+int(ph/2)+40, esc(cur))
	b.f(`<rect x="%d" y="%d" width="12" height="10" fill="#0b3d35"/><text class="legend" x="%d" y="%d">realized so far</text>`, w-right+14, top, w-right+30, top+9)
	b.f(`<rect x="%d" y="%d" width="12" height="10" fill="#e08a1e"/><text class="legend" x="%d" y="%d">predicted, 365 days</text>`, w-right+14, top+16, w-right+30, top+25)
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// pAliveChart is a histogram of the accounts per tenth of P(alive).
func pAliveChart(bins [10]int64) template.HTML {
	var maxN int64
	for _, n := range bins {
		maxN = max(maxN, n)
	}
	if maxN == 0 {
		return emptyChart("palive-chart", "No predictions.")
	}
	const w, h, left, right, top, bottom = 760, 240, 70, 30, 20, 40
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	step := niceStep(float64(maxN), 4)
	yMax := math.Max(step, math.Ceil(float64(maxN)/step)*step)
	y := func(v float64) float64 { return float64(top) + ph*(1-v/yMax) }
	slot := pw / 10
	var b svgBuilder
	b.f(`<svg class="chart palive-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Distribution of P(alive)">`, w, h, w, h)
	b.f(`<title>Client accounts per tenth of P(alive)</title>`)
	for v := 0.0; v <= yMax+step/2; v += step {
		b.f(`<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6e8"/>`, left, w-right, y(v), y(v))
		b.f(`<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(axisNumber(v)))
	}
	for i, n := range bins {
		x0 := float64(left) + slot*float64(i)
		b.f(`<rect class="bar bar-palive" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#3b7dd8"><title>P(alive) %.1f–%.1f: %d</title></rect>`,
			x0+2, y(float64(n)), slot-4, y(0)-y(float64(n)), float64(i)/10, float64(i+1)/10, n)
		b.f(`<text class="tick" x="%.1f" y="%d" text-anchor="middle">%.1f</text>`, x0, h-bottom+16, float64(i)/10)
	}
	b.f(`<text class="tick" x="%d" y="%d" text-anchor="middle">1.0</text>`, w-right, h-bottom+16)
	b.f(`<text class="axis-title" x="%d" y="%d">P(alive)</text>`, left+int(pw/2)-20, h-6)
	b.f(`</svg>`)
	return template.HTML(b.String())
}
