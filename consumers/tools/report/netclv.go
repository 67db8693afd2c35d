package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// CLVMonth is the platform's CLV for a month in one currency (query net_clv): gross CLV =
// AOV × frequency × lifespan, and net CLV, less the acquisition cost (cohort CAC) and the
// retention cost per client to date. Gross and Net are the pack's Float64 estimates in their
// shortest decimal form; the per-client costs are its exact Decimal values.
type CLVMonth struct {
	Month                                    time.Time
	Currency                                 string
	Gross, Net                               decimal.Decimal
	AcquisitionPerClient, RetentionPerClient decimal.Decimal
}

// RetentionRate is the platform's customer retention rate of a month (query retention_rate):
// (End − New) / Start, with Start the clients active at its first instant, End those active
// at its last and New those of End whose ownership was established in the month.
type RetentionRate struct {
	Month           time.Time
	Start, End, New int64
}

// Rate is (End − New) / Start; ok is false when no client was active at the month's start.
func (r RetentionRate) Rate() (float64, bool) {
	if r.Start == 0 {
		return 0, false
	}
	return float64(r.End-r.New) / float64(r.Start), true
}

func loadNetCLV(run packRun, params map[string]string, d *Data) error {
	return run.each("net_clv", params, func(r row) {
		d.NetCLV = append(d.NetCLV, CLVMonth{Month: r.time("month"), Currency: r.str("currency"),
			Gross: r.dec("gross_clv"), Net: r.dec("net_clv"),
			AcquisitionPerClient: r.dec("acquisition_cost_per_client"), RetentionPerClient: r.dec("retention_cost_per_client")})
	})
}

func loadRetentionRate(run packRun, params map[string]string, d *Data) error {
	return run.each("retention_rate", params, func(r row) {
		d.CRR = append(d.CRR, RetentionRate{Month: r.time("month"), Start: r.int("active_start"),
			End: r.int("active_end"), New: r.int("new_active_end")})
	})
}

type netCLVRow struct{ Month, Gross, Acquisition, Retention, Net, Currency string }

type crrRow struct{ Month, Start, End, New, Rate string }

func netCLVRows(ms []CLVMonth) []netCLVRow {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b CLVMonth) int {
		return cmp.Or(a.Month.Compare(b.Month), cmp.Compare(a.Currency, b.Currency))
	})
	rows := make([]netCLVRow, 0, len(out))
	for _, m := range out {
		rows = append(rows, netCLVRow{Month: monthLabel(m.Month), Gross: money(m.Gross, m.Currency),
			Acquisition: money(m.AcquisitionPerClient, m.Currency), Retention: money(m.RetentionPerClient, m.Currency),
			Net: money(m.Net, m.Currency), Currency: m.Currency})
	}
	return rows
}

func sortedCRR(in []RetentionRate) []RetentionRate {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b RetentionRate) int { return a.Month.Compare(b.Month) })
	return out
}

func crrRows(in []RetentionRate) []crrRow {
	var rows []crrRow
	for _, r := range sortedCRR(in) {
		rate := "–"
		if v, ok := r.Rate(); ok {
			rate = pct(v)
		}
		rows = append(rows, crrRow{Month: monthLabel(r.Month), Start: fmt.Sprint(r.Start), End: fmt.Sprint(r.End),
			New: fmt.Sprint(r.New), Rate: rate})
	}
	return rows
}

// lineSeries is one line of a month chart; NaN values are gaps.
type lineSeries struct {
	name, class, color string
	values             []float64
}

// monthLines draws series over months (one x position per label), the y axis from min(0,
// lowest value) to the highest, with a zero line when values go negative.
func monthLines(class, title, yTitle string, labels []string, series []lineSeries, tick func(float64) string) template.HTML {
	lo, hi := 0.0, 0.0
	for _, s := range series {
		for _, v := range s.values {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	const w, h, left, right, top, bottom = 760, 300, 70, 150, 20, 40
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	step := niceStep(hi-lo, 5)
	yMin := math.Floor(lo/step) * step
	yMax := math.Max(yMin+step, math.Ceil(hi/step)*step)
	x := func(i int) float64 {
		if len(labels) == 1 {
			return float64(left) + pw/2
		}
		return float64(left) + pw*float64(i)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return float64(top) + ph*(1-(v-yMin)/(yMax-yMin)) }
	var b svgBuilder
	b.f(`<svg class="chart %s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		esc(class), w, h, w, h, esc(title))
	b.f(`<title>%s</title>`, esc(title))
	for v := yMin; v <= yMax+step/2; v += step {
		stroke := "#e3e6e8"
		if math.Abs(v) < step/2 {
			stroke = "#9aa4ad"
		}
		b.f(`<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, left, w-right, y(v), y(v), stroke)
		b.f(`<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(tick(v)))
	}
	every := max(1, (len(labels)+5)/6)
	for i, l := range labels {
		if i%every == 0 {
			b.f(`<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), h-bottom+16, esc(l))
		}
	}
	b.f(`<text class="axis-title" x="12" y="%d" transform="rotate(-90 12 %d)">%s</text>`, top+int(ph/2)+40, top+int(ph/2)+40, esc(yTitle))
	for k, s := range series {
		var pts []string
		for i, v := range s.values {
			if !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
				b.f(`<circle class="%s-point" cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s %s: %s</title></circle>`,
					esc(s.class), x(i), y(v), s.color, esc(s.name), esc(labels[i]), esc(tick(v)))
			}
		}
		b.f(`<polyline class="%s" fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`,
			esc(s.class), s.color, strings.Join(pts, " "), esc(s.name))
		ly := top + 16*k
		b.f(`<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text class="legend" x="%d" y="%d">%s</text>`,
			w-right+14, ly+4, s.color, w-right+30, ly+9, esc(s.name))
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// netCLVChart draws gross and net CLV per month in currency cur.
func netCLVChart(ms []CLVMonth, cur string) template.HTML {
	var sel []CLVMonth
	for _, m := range ms {
		if m.Currency == cur {
			sel = append(sel, m)
		}
	}
	if len(sel) == 0 {
		return emptyChart("net-clv-chart", "No CLV data in "+cur+".")
	}
	slices.SortStableFunc(sel, func(a, b CLVMonth) int { return a.Month.Compare(b.Month) })
	labels := make([]string, len(sel))
	gross := lineSeries{name: "gross CLV", class: "clv-gross", color: palette[0], values: make([]float64, len(sel))}
	net := lineSeries{name: "net CLV", class: "clv-net", color: palette[3], values: make([]float64, len(sel))}
	for i, m := range sel {
		labels[i] = monthLabel(m.Month)
		gross.values[i] = m.Gross.InexactFloat64()
		net.values[i] = m.Net.InexactFloat64()
	}
	return monthLines("net-clv-chart", "Gross and net CLV per client ("+cur+") by month", cur+" per client", labels,
		[]lineSeries{gross, net}, axisNumber)
}

// crrChart draws the customer retention rate per month.
func crrChart(in []RetentionRate) template.HTML {
	rs := sortedCRR(in)
	if len(rs) == 0 {
		return emptyChart("crr-chart", "No retention-rate data.")
	}
	labels := make([]string, len(rs))
	crr := lineSeries{name: "CRR", class: "crr-line", color: palette[2], values: make([]float64, len(rs))}
	for i, r := range rs {
		labels[i] = monthLabel(r.Month)
		crr.values[i] = math.NaN()
		if v, ok := r.Rate(); ok {
			crr.values[i] = v
		}
	}
	return monthLines("crr-chart", "Customer retention rate (E − N) / S by month", "retention rate", labels,
		[]lineSeries{crr}, func(v float64) string { return trimZero(fmt.Sprintf("%.1f", 100*v)) + "%" })
}
