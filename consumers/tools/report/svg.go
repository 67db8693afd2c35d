package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"
)

// palette for cohort lines, colour-blind friendly (Okabe–Ito, then Tableau).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
	"#F0E442", "#000000", "#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#9C755F", "#76B7B2"}

type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) f(format string, args ...any) { fmt.Fprintf(&b.Builder, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

// heatColor maps a share in [0, 1] to a white → deep teal colour.
func heatColor(v float64) string {
	v = math.Min(math.Max(v, 0), 1)
	v = math.Sqrt(v) // spread out the low shares where most cells are
	lo := [3]float64{247, 252, 250}
	hi := [3]float64{8, 88, 76}
	c := func(i int) int { return int(math.Round(lo[i] + (hi[i]-lo[i])*v)) }
	return fmt.Sprintf("#%02x%02x%02x", c(0), c(1), c(2))
}

// retentionHeatmap draws the cohort × month-offset retention triangle.
func retentionHeatmap(cells []RetentionCell) template.HTML {
	if len(cells) == 0 {
		return emptyChart("retention-heatmap", "No retention data.")
	}
	var cohorts []time.Time
	maxOff := 0
	byKey := map[string]RetentionCell{}
	size := map[string]int64{}
	for _, c := range cells {
		k := monthLabel(c.Cohort)
		if _, ok := size[k]; !ok {
			cohorts = append(cohorts, c.Cohort)
		}
		size[k] = max(size[k], c.Size)
		byKey[fmt.Sprintf("%s/%d", k, c.Offset)] = c
		maxOff = max(maxOff, c.Offset)
	}
	slices.SortFunc(cohorts, func(a, b time.Time) int { return a.Compare(b) })
	const cw, ch, left, top = 46, 24, 130, 34
	w := left + (maxOff+1)*cw + 10
	h := top + len(cohorts)*ch + 10
	var b svgBuilder
	b.f(`<svg class="chart retention-heatmap" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Retention heatmap">`, w, h, w, h)
	b.f(`<title>Share of each cohort's clients with a purchase k months after joining</title>`)
	b.f(`<text x="%d" y="14" class="axis-title">month offset →</text>`, left)
	for k := 0; k <= maxOff; k++ {
		b.f(`<text x="%d" y="%d" class="tick" text-anchor="middle">+%d</text>`, left+k*cw+cw/2, top-6, k)
	}
	for i, c := range cohorts {
		y := top + i*ch
		key := monthLabel(c)
		b.f(`<text x="%d" y="%d" class="tick" text-anchor="end">%s (%d)</text>`, left-6, y+ch/2+4, esc(key), size[key])
		for k := 0; k <= maxOff; k++ {
			cell, ok := byKey[fmt.Sprintf("%s/%d", key, k)]
			if !ok {
				continue
			}
			r := cell.Rate()
			b.f(`<rect class="cell" x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s +%d: %d of %d (%.1f%%)</title></rect>`,
				left+k*cw, y, cw-2, ch-2, heatColor(r), esc(key), k, cell.Active, cell.Size, 100*r)
			fill := "#1b1b1b"
			if r > 0.3 {
				fill = "#ffffff"
			}
			b.f(`<text x="%d" y="%d" class="cell-label" text-anchor="middle" fill="%s">%.0f%%</text>`,
				left+k*cw+(cw-2)/2, y+ch/2+3, fill, 100*r)
		}
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// niceStep returns a round tick step giving about n ticks up to max.
func niceStep(maxV float64, n int) float64 {
	if maxV <= 0 {
		return 1
	}
	raw := maxV / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// clvSeries groups the points in currency cur by cohort (keys: the cohorts in order of first
// appearance) and returns the largest offset and value.
func clvSeries(points []CLVPoint, cur string) (series map[string][]CLVPoint, keys []string, maxOff int, maxV float64) {
	series = map[string][]CLVPoint{}
	for _, p := range points {
		if p.Currency != cur {
			continue
		}
		k := monthLabel(p.Cohort)
		if _, ok := series[k]; !ok {
			keys = append(keys, k)
		}
		series[k] = append(series[k], p)
		maxOff = max(maxOff, p.Offset)
		maxV = math.Max(maxV, p.Total().InexactFloat64())
	}
	return series, keys, maxOff, maxV
}

// clvChart draws one line per cohort: cumulative value per client (direct + indirect) by
// month offset, in currency cur.
func clvChart(points []CLVPoint, cur string) template.HTML {
	series, keys, maxOff, maxV := clvSeries(points, cur)
	if len(keys) == 0 {
		return emptyChart("clv-chart", "No CLV data in "+cur+".")
	}
	slices.Sort(keys)
	const w, h, left, right, top, bottom = 760, 360, 70, 150, 20, 40
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	step := niceStep(maxV, 5)
	yMax := math.Max(step, math.Ceil(maxV/step)*step)
	x := func(off int) float64 {
		if maxOff == 0 {
			return float64(left) + pw/2
		}
		return float64(left) + pw*float64(off)/float64(maxOff)
	}
	y := func(v float64) float64 { return float64(top) + ph*(1-v/yMax) }
	var b svgBuilder
	b.f(`<svg class="chart clv-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="CLV curves per cohort">`, w, h, w, h)
	b.f(`<title>Realized CLV per cohort client (%s), cumulative by month offset</title>`, esc(cur))
	for v := 0.0; v <= yMax+step/2; v += step {
		b.f(`<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6e8"/>`, left, w-right, y(v), y(v))
		b.f(`<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(axisNumber(v)))
	}
	for k := 0; k <= maxOff; k++ {
		b.f(`<text class="tick" x="%.1f" y="%d" text-anchor="middle">+%d</text>`, x(k), h-bottom+16, k)
	}
	b.f(`<text class="axis-title" x="%d" y="%d">month offset</text>`, left+int(pw/2)-30, h-6)
	b.f(`<text class="axis-title" x="12" y="%d" transform="rotate(-90 12 %d)">%s per client</text>`, top+int(ph/2)+40, top+int(ph/2)+40, esc(cur))
	for i, k := range keys {
		ps := series[k]
		slices.SortFunc(ps, func(a, b CLVPoint) int { return a.Offset - b.Offset })
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range ps {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Offset), y(p.Total().InexactFloat64())))
		}
		b.f(`<polyline class="clv-line" fill="none" stroke="%s" stroke-width="2" points="%s"><title>cohort %s</title></polyline>`,
			color, strings.Join(pts, " "), esc(k))
		last := ps[len(ps)-1]
		b.f(`<circle class="clv-end" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>cohort %s +%d: %s %s per client (commissions %s)</title></circle>`,
			x(last.Offset), y(last.Total().InexactFloat64()), color, esc(k), last.Offset,
			esc(money(last.Total(), cur)), esc(cur), esc(money(last.Commissions, cur)))
		ly := top + 14*i
		b.f(`<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text class="legend" x="%d" y="%d">%s</text>`,
			w-right+14, ly+4, color, w-right+30, ly+9, esc(k))
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// ownersChart draws, for the top owners, their direct value and their passive income
// (commissions on their clients' bookings elsewhere), each bar on its own scale.
func ownersChart(owners []Owner, cur string) template.HTML {
	top := topOwners(owners, cur, 12)
	if len(top) == 0 {
		return emptyChart("owners-chart", "No owner income in "+cur+".")
	}
	const rowH, labelW, barW, gap, head = 30, 250, 220, 40, 30
	w := labelW + 2*barW + gap + 20
	h := head + len(top)*rowH + 10
	maxD, maxC := 0.0, 0.0
	for _, o := range top {
		maxD = math.Max(maxD, o.Direct.InexactFloat64())
		maxC = math.Max(maxC, o.Commissions.InexactFloat64())
	}
	scale := func(v, m float64) float64 {
		if m <= 0 {
			return 0
		}
		return math.Max(0, v/m*float64(barW-70))
	}
	var b svgBuilder
	b.f(`<svg class="chart owners-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Passive income per owner">`, w, h, w, h)
	b.f(`<title>Top owners (%s): direct value and passive income (commissions)</title>`, esc(cur))
	b.f(`<text class="axis-title" x="%d" y="16">direct value (%s)</text>`, labelW, esc(cur))
	b.f(`<text class="axis-title" x="%d" y="16">passive income: commissions (%s)</text>`, labelW+barW+gap, esc(cur))
	for i, o := range top {
		y := head + i*rowH
		name := o.Name
		if name == "" {
			name = o.BusinessID
		}
		if r := []rune(name); len(r) > 34 {
			name = string(r[:33]) + "…"
		}
		b.f(`<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+rowH/2+3, esc(name))
		dw := scale(o.Direct.InexactFloat64(), maxD)
		cw := scale(o.Commissions.InexactFloat64(), maxC)
		b.f(`<rect class="bar bar-direct" x="%d" y="%d" width="%.1f" height="%d" fill="#8fa9c4"><title>%s direct value %s %s</title></rect>`,
			labelW, y+5, dw, rowH-10, esc(name), esc(money(o.Direct, cur)), esc(cur))
		b.f(`<text class="bar-label" x="%.1f" y="%d">%s</text>`, float64(labelW)+dw+4, y+rowH/2+3, esc(money(o.Direct, cur)))
		x2 := labelW + barW + gap
		b.f(`<rect class="bar bar-indirect" x="%d" y="%d" width="%.1f" height="%d" fill="#0b8a6c"><title>%s commissions %s %s on %s of its clients' bookings elsewhere</title></rect>`,
			x2, y+5, cw, rowH-10, esc(name), esc(money(o.Commissions, cur)), esc(cur), esc(money(o.Elsewhere, cur)))
		b.f(`<text class="bar-label" x="%.1f" y="%d">%s</text>`, float64(x2)+cw+4, y+rowH/2+3, esc(money(o.Commissions, cur)))
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

func emptyChart(class, msg string) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg class="chart %s empty" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 40" width="400" height="40" role="img" aria-label="%s"><text x="10" y="24" class="tick">%s</text></svg>`,
		esc(class), esc(msg), esc(msg)))
}

// axisNumber formats an axis value compactly: 1200 → "1.2k".
func axisNumber(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case v >= 1e4:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return trimZero(fmt.Sprintf("%.2f", v))
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
