package report

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
)

// HTML writes d as one self-contained HTML document: inline CSS and SVG, no scripts, no
// external resources. Chart geometry uses float64 (pixels); every printed amount comes from
// the decimal values, rounded half-even to the currency's minor unit.
func HTML(w io.Writer, d Data) error {
	if err := page.Execute(w, view(d)); err != nil {
		return fmt.Errorf("rendering html report: %w", err)
	}
	return nil
}

type ownerRow struct {
	Owner
	DirectS, ElsewhereS, CommissionsS string
}

type churnRow struct {
	Month, Active, Churned, ChurnRate, RPR, AMPU, LTV, Currency string
}

type npsRow struct{ Name, NPS, Promoters, Detractors, Responses, CSAT, CSATResponses string }

type ltvRow struct{ Name, Currency, NewClients, Spend, CAC, LTV, Ratio string }

type pageView struct {
	Title, Generated, Currency string
	Summary                    []Figure
	Heatmap, CLV, OwnersChart  template.HTML
	Owners                     []ownerRow
	Churn                      []churnRow
	NPS                        []npsRow
	LTV                        []ltvRow
	DLQ                        []DeadLetters
	DLQTotal                   int64
	NetCLVChart, CRRChart      template.HTML
	NetCLV                     []netCLVRow
	CRR                        []crrRow
	Predicted                  *predictedView
}

func view(d Data) pageView {
	cur := d.chartCurrency()
	v := pageView{Title: cmp.Or(d.Title, "Taskole marketplace report"), Currency: cur, Summary: d.Summary}
	if !d.GeneratedAt.IsZero() {
		v.Generated = d.GeneratedAt.UTC().Format("2006-01-02 15:04 MST")
	}
	v.Heatmap = retentionHeatmap(d.Retention)
	v.CLV = clvChart(d.CLV, cur)
	v.OwnersChart = ownersChart(d.Owners, cur)
	for _, o := range ownersTable(d.Owners, cur, 20) {
		v.Owners = append(v.Owners, ownerRow{Owner: o, DirectS: money(o.Direct, o.Currency),
			ElsewhereS: money(o.Elsewhere, o.Currency), CommissionsS: money(o.Commissions, o.Currency)})
	}
	for _, c := range sortedChurn(d.Churn) {
		v.Churn = append(v.Churn, churnRowOf(c))
	}
	for _, s := range sortedNPS(d.NPS) {
		v.NPS = append(v.NPS, npsRowOf(s))
	}
	for _, r := range sortedLTV(d.LTVCAC) {
		v.LTV = append(v.LTV, ltvRowOf(r))
	}
	v.NetCLVChart, v.NetCLV = netCLVChart(d.NetCLV, cur), netCLVRows(d.NetCLV)
	v.CRRChart, v.CRR = crrChart(d.CRR), crrRows(d.CRR)
	v.Predicted = predictedViewOf(d.Predicted, cur)
	v.DLQ = sortedDLQ(d.DLQ)
	for _, x := range v.DLQ {
		v.DLQTotal += x.Count
	}
	return v
}

// ownersTable is the top n owners over all currencies: the chart currency first, then the
// others by code; within a currency by commissions.
func ownersTable(owners []Owner, cur string, n int) []Owner {
	out := slices.Clone(owners)
	slices.SortStableFunc(out, func(a, b Owner) int {
		if a.Currency != b.Currency && (a.Currency == cur || b.Currency == cur) {
			if a.Currency == cur {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Currency, b.Currency), b.Commissions.Cmp(a.Commissions), cmp.Compare(a.BusinessID, b.BusinessID))
	})
	return out[:min(n, len(out))]
}

func sortedChurn(in []ChurnMonth) []ChurnMonth {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b ChurnMonth) int {
		return cmp.Or(a.Month.Compare(b.Month), cmp.Compare(a.Currency, b.Currency))
	})
	return out
}

func churnRowOf(c ChurnMonth) churnRow {
	ltv := "–"
	if c.LTV.Valid {
		ltv = money(c.LTV.Decimal, c.Currency)
	}
	return churnRow{Month: monthLabel(c.Month), Active: fmt.Sprint(c.ActiveAtStart), Churned: fmt.Sprint(c.Churned),
		ChurnRate: pct(c.ChurnRate()), RPR: pct(c.RepeatRate), AMPU: money(c.AMPU, c.Currency), LTV: ltv, Currency: c.Currency}
}

// sortedNPS orders businesses by NPS answers, most first (the most reliable scores on top).
func sortedNPS(in []Satisfaction) []Satisfaction {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Satisfaction) int {
		return cmp.Or(cmp.Compare(b.NPSResponses+b.CSATResponses, a.NPSResponses+a.CSATResponses), cmp.Compare(a.BusinessID, b.BusinessID))
	})
	return out
}

func npsRowOf(s Satisfaction) npsRow {
	r := npsRow{Name: cmp.Or(s.Name, s.BusinessID), NPS: "–", CSAT: "–",
		Promoters: fmt.Sprint(s.Promoters), Detractors: fmt.Sprint(s.Detractors),
		Responses: fmt.Sprint(s.NPSResponses), CSATResponses: fmt.Sprint(s.CSATResponses)}
	if v, ok := s.NPS(); ok {
		r.NPS = fmt.Sprintf("%+.0f", v)
	}
	if v, ok := s.CSAT(); ok {
		r.CSAT = fmt.Sprintf("%.0f%%", v)
	}
	return r
}

// sortedLTV orders by LTV : CAC, best first; rows without a ratio last.
func sortedLTV(in []LTVCAC) []LTVCAC {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b LTVCAC) int {
		ra, oka := a.Ratio()
		rb, okb := b.Ratio()
		switch {
		case oka && !okb:
			return -1
		case !oka && okb:
			return 1
		case oka && okb:
			if c := rb.Cmp(ra); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.BusinessID, b.BusinessID)
	})
	return out
}

func ltvRowOf(r LTVCAC) ltvRow {
	row := ltvRow{Name: cmp.Or(r.Name, r.BusinessID), Currency: r.Currency, NewClients: fmt.Sprint(r.NewClients),
		Spend: money(r.Spend, r.Currency), CAC: "–", LTV: "–", Ratio: "–"}
	if r.CAC.Valid {
		row.CAC = money(r.CAC.Decimal, r.Currency)
	}
	if r.LTV.Valid {
		row.LTV = money(r.LTV.Decimal, r.Currency)
	}
	if v, ok := r.Ratio(); ok {
		row.Ratio = v.StringFixed(2)
	}
	return row
}

func sortedDLQ(in []DeadLetters) []DeadLetters {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b DeadLetters) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Consumer+"\x00"+a.Topic+"\x00"+a.Reason, b.Consumer+"\x00"+b.Topic+"\x00"+b.Reason))
	})
	return out
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f8}
header{background:#0b3d35;color:#fff;padding:20px 32px}
header h1{margin:0;font-size:24px} header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{padding:16px 32px;max-width:1200px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin:16px 0;overflow-x:auto}
h2{font-size:18px;margin:0 0 4px} .note{color:#5b6670;font-size:13px;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 16px;min-width:150px}
.card .v{font-size:22px;font-weight:600} .card .l{font-size:12px;color:#5b6670}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e3e6e8;text-align:right;white-space:nowrap}
th:first-child,td:first-child,.t{text-align:left}
th{background:#f0f2f4;font-weight:600}
.chart{max-width:100%;height:auto;font-size:11px}
.chart .tick,.chart .legend,.chart .bar-label{fill:#38424a;font-size:11px}
.chart .axis-title{fill:#5b6670;font-size:12px} .chart .cell-label{font-size:10px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
</style>
</head>
<body>
<header><h1>{{.Title}}</h1><p>Referral revenue share: every client a business brings earns it a share of the client's bookings elsewhere.{{if .Generated}} Generated {{.Generated}}.{{end}}</p></header>
<main>
{{if .Summary}}<div class="cards">{{range .Summary}}<div class="card"><div class="v">{{.Value}}</div><div class="l">{{.Label}}</div></div>{{end}}</div>{{end}}

<section id="passive-income">
<h2>Passive income per owner</h2>
<p class="note">Top owners in {{.Currency}}: the value of their own bookings with their clients (direct), and the commissions they earned on their clients' bookings at other businesses (indirect value, passive income).</p>
{{.OwnersChart}}
<table>
<thead><tr><th>Owner</th><th class="t">Sector</th><th>Clients</th><th>Direct value</th><th>Clients' spend elsewhere</th><th>Commissions</th><th>Currency</th></tr></thead>
<tbody>{{range .Owners}}<tr><td>{{if .Name}}{{.Name}}{{else}}{{.BusinessID}}{{end}}</td><td class="t">{{.Sector}}</td><td>{{.Clients}}</td><td>{{.DirectS}}</td><td>{{.ElsewhereS}}</td><td>{{.CommissionsS}}</td><td>{{.Currency}}</td></tr>{{else}}<tr><td colspan="7">No owners.</td></tr>{{end}}</tbody>
</table>
</section>

<section id="retention">
<h2>Cohort retention</h2>
<p class="note">Share of each cohort (month the client's ownership was established; cohort size in brackets) with at least one purchase k months later.</p>
{{.Heatmap}}
</section>

<section id="clv">
<h2>Realized CLV per cohort</h2>
<p class="note">Cumulative net value per cohort client ({{.Currency}}), direct plus indirect, by month offset.</p>
{{.CLV}}
</section>

{{with .Predicted}}<section id="predicted-clv">
<h2>Predicted CLV per cohort</h2>
<p class="note">As of {{.AsOf}} (<code>taskole predict</code>): realized net value per cohort client so far against the predicted CLV of the next 365 days (BG/NBD purchases × Gamma-Gamma value, discounted), and how many clients are probably still alive (BG/NBD counts a client without a repeat purchase as alive: P(alive) = 1).</p>
{{.Chart}}
{{.PAlive}}
<table>
<thead><tr><th>Cohort</th><th class="t">Currency</th><th>Clients</th><th>Mean P(alive)</th><th>Realized per client</th><th>Predicted per client</th><th>Predicted net of acquisition and retention cost</th><th>Expected commissions</th></tr></thead>
<tbody>{{range .Rows}}<tr><td>{{.Cohort}}</td><td class="t">{{.Currency}}</td><td>{{.Clients}}</td><td>{{.PAlive}}</td><td>{{.Realized}}</td><td>{{.Predicted}}</td><td class="predicted-net">{{.Net}}</td><td>{{.Commissions}}</td></tr>{{end}}</tbody>
</table>
</section>
{{end}}
<section id="churn">
<h2>Churn, repeat purchases and LTV</h2>
<p class="note">Platform wide. Churn: clients active at the month's first instant and not at its last / active at its first instant. LTV = AMPU / churn rate.</p>
<table>
<thead><tr><th>Month</th><th>Active at start</th><th>Churned</th><th>Churn rate</th><th>Repeat purchase rate</th><th>AMPU</th><th>LTV</th><th>Currency</th></tr></thead>
<tbody>{{range .Churn}}<tr><td>{{.Month}}</td><td>{{.Active}}</td><td>{{.Churned}}</td><td>{{.ChurnRate}}</td><td>{{.RPR}}</td><td>{{.AMPU}}</td><td>{{.LTV}}</td><td>{{.Currency}}</td></tr>{{else}}<tr><td colspan="8">No data.</td></tr>{{end}}</tbody>
</table>
</section>

<section id="net-clv">
<h2>Gross and net CLV</h2>
<p class="note">Platform wide, per client ({{.Currency}} in the chart). Gross CLV = AOV × purchase frequency × lifespan; net CLV subtracts what a client cost to win (its cohort's CAC) and to keep (retention spend named to it, or spread over the spender's clients active that month), to date.</p>
{{.NetCLVChart}}
<table>
<thead><tr><th>Month</th><th>Gross CLV</th><th>Acquisition / client</th><th>Retention / client</th><th>Net CLV</th><th>Currency</th></tr></thead>
<tbody>{{range .NetCLV}}<tr><td>{{.Month}}</td><td>{{.Gross}}</td><td>{{.Acquisition}}</td><td>{{.Retention}}</td><td>{{.Net}}</td><td>{{.Currency}}</td></tr>{{else}}<tr><td colspan="6">No data.</td></tr>{{end}}</tbody>
</table>
</section>

<section id="retention-rate">
<h2>Customer retention rate</h2>
<p class="note">Platform wide. CRR = (E − N) / S: S clients active at the month's first instant, E at its last, N those of E whose ownership was established in the month.</p>
{{.CRRChart}}
<table>
<thead><tr><th>Month</th><th>Active at start (S)</th><th>Active at end (E)</th><th>New of E (N)</th><th>CRR</th></tr></thead>
<tbody>{{range .CRR}}<tr><td>{{.Month}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.New}}</td><td>{{.Rate}}</td></tr>{{else}}<tr><td colspan="5">No data.</td></tr>{{end}}</tbody>
</table>
</section>

<div class="grid2">
<section id="nps">
<h2>Satisfaction</h2>
<p class="note">NPS = % promoters (9–10) − % detractors (0–6); CSAT = % of answers 4–5.</p>
<table>
<thead><tr><th>Business</th><th>NPS</th><th>Promoters</th><th>Detractors</th><th>Answers</th><th>CSAT</th><th>Answers</th></tr></thead>
<tbody>{{range .NPS}}<tr><td>{{.Name}}</td><td>{{.NPS}}</td><td>{{.Promoters}}</td><td>{{.Detractors}}</td><td>{{.Responses}}</td><td>{{.CSAT}}</td><td>{{.CSATResponses}}</td></tr>{{else}}<tr><td colspan="7">No answers.</td></tr>{{end}}</tbody>
</table>
</section>

<section id="ltv-cac">
<h2>LTV : CAC</h2>
<p class="note">CAC = acquisition spend / clients whose ownership the business established.</p>
<table>
<thead><tr><th>Business</th><th>New clients</th><th>Spend</th><th>CAC</th><th>LTV</th><th>LTV : CAC</th><th>Currency</th></tr></thead>
<tbody>{{range .LTV}}<tr><td>{{.Name}}</td><td>{{.NewClients}}</td><td>{{.Spend}}</td><td>{{.CAC}}</td><td>{{.LTV}}</td><td>{{.Ratio}}</td><td>{{.Currency}}</td></tr>{{else}}<tr><td colspan="7">No acquisition spend.</td></tr>{{end}}</tbody>
</table>
</section>
</div>

<section id="dlq">
<h2>Dead letters: {{.DLQTotal}}</h2>
<p class="note">Input records that could not be processed, by consumer, source topic and reason. None was lost: each is on the dead-letter topic with its original bytes.</p>
<table>
<thead><tr><th>Consumer</th><th class="t">Topic</th><th class="t">Reason</th><th>Records</th></tr></thead>
<tbody>{{range .DLQ}}<tr><td>{{.Consumer}}</td><td class="t">{{.Topic}}</td><td class="t">{{.Reason}}</td><td>{{.Count}}</td></tr>{{else}}<tr><td colspan="4">No dead letters.</td></tr>{{end}}</tbody>
</table>
</section>
</main>
</body>
</html>
`))
