package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Text writes the report's figures as plain text tables for a terminal (no colours, no
// escapes), at most 100 columns wide for the usual 12-month period.
func Text(w io.Writer, d Data) error {
	t := &textWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight), cur: d.chartCurrency()}
	for _, section := range []func(*textWriter, Data){
		(*textWriter).summary, (*textWriter).owners, (*textWriter).retention, (*textWriter).realizedCLV,
		(*textWriter).churn, (*textWriter).netCLV, (*textWriter).crr, (*textWriter).satisfaction,
		(*textWriter).ltvCAC, (*textWriter).deadLetters,
	} {
		section(t, d)
	}
	if t.err != nil {
		return fmt.Errorf("writing text report: %w", t.err)
	}
	return nil
}

// textWriter writes the text report's tables through one tabwriter and keeps the first error:
// after it, nothing more is written.
type textWriter struct {
	tw  *tabwriter.Writer
	cur string
	err error
}

func (t *textWriter) p(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.tw, format, args...)
	}
}

// heading writes a section's title line after a blank line, and flushes it.
func (t *textWriter) heading(format string, args ...any) {
	t.p("\n"+format+"\n", args...)
	t.flush()
}

func (t *textWriter) flush() {
	if t.err == nil {
		t.err = t.tw.Flush()
	}
}

// summary writes the title and the summary figures.
func (t *textWriter) summary(d Data) {
	title := cmp.Or(d.Title, "Taskole marketplace report")
	t.p("%s\n%s\n", title, strings.Repeat("=", len([]rune(title))))
	t.flush()
	width := 0
	for _, f := range d.Summary {
		width = max(width, len([]rune(f.Label))+1)
	}
	for _, f := range d.Summary {
		t.p("%-*s  %s\n", width, f.Label+":", f.Value)
	}
	t.flush()
}

// owners writes the ten owners with the most passive income.
func (t *textWriter) owners(d Data) {
	t.heading("Top owners by passive income (%s)", t.cur)
	t.p("%-34s\tclients\tdirect value\tclients' spend elsewhere\tcommissions\t\n", "owner")
	top := topOwners(d.Owners, t.cur, 10)
	for _, o := range top {
		t.p("%-34s\t%d\t%s\t%s\t%s\t\n", truncate(cmp.Or(o.Name, o.BusinessID), 34), o.Clients,
			money(o.Direct, t.cur), money(o.Elsewhere, t.cur), money(o.Commissions, t.cur))
	}
	if len(top) == 0 {
		t.p("(none)\t\t\t\t\t\n")
	}
	t.flush()
}

// retention writes the cohort retention triangle.
func (t *textWriter) retention(d Data) {
	t.heading("Retention: %% of each cohort with a purchase in month +k")
	cohorts, maxOff := cohortAxis(d.Retention)
	cells := map[string]RetentionCell{}
	for _, c := range d.Retention {
		cells[fmt.Sprintf("%s/%d", monthLabel(c.Cohort), c.Offset)] = c
	}
	t.offsetHeader("cohort\tsize\t", maxOff)
	for _, c := range cohorts {
		key := monthLabel(c)
		var size int64
		row := ""
		for k := 0; k <= maxOff; k++ {
			if cell, ok := cells[fmt.Sprintf("%s/%d", key, k)]; ok {
				size = max(size, cell.Size)
				row += fmt.Sprintf("%.0f\t", 100*cell.Rate())
			} else {
				row += "\t"
			}
		}
		t.p("%s\t%d\t%s\n", key, size, row)
	}
	t.flush()
}

// offsetHeader writes the header row of a cohort table: columns, then one column
// per month offset +0 to +maxOff.
func (t *textWriter) offsetHeader(columns string, maxOff int) {
	t.p("%s", columns)
	for k := 0; k <= maxOff; k++ {
		t.p("+%d\t", k)
	}
	t.p("\n")
}

// realizedCLV writes the cumulative realized CLV per cohort client.
func (t *textWriter) realizedCLV(d Data) {
	t.heading("Realized CLV per cohort client (%s, direct + indirect, cumulative)", t.cur)
	clv := map[string]CLVPoint{}
	var clvPts []RetentionCell
	for _, pt := range d.CLV {
		if pt.Currency == t.cur {
			clv[fmt.Sprintf("%s/%d", monthLabel(pt.Cohort), pt.Offset)] = pt
			clvPts = append(clvPts, RetentionCell{Cohort: pt.Cohort, Offset: pt.Offset})
		}
	}
	cohorts, maxOff := cohortAxis(clvPts)
	t.offsetHeader("cohort\t", maxOff)
	for _, c := range cohorts {
		key := monthLabel(c)
		t.p("%s\t", key)
		for k := 0; k <= maxOff; k++ {
			if pt, ok := clv[fmt.Sprintf("%s/%d", key, k)]; ok {
				t.p("%s\t", money(pt.Total(), t.cur))
			} else {
				t.p("\t")
			}
		}
		t.p("\n")
	}
	t.flush()
}

// churn writes churn, repeat purchases and LTV per month.
func (t *textWriter) churn(d Data) {
	t.heading("Churn, repeat purchases, LTV (platform, AMPU and LTV in %s)", t.cur)
	t.p("month\tactive at start\tchurned\tchurn\tRPR\tAMPU\tLTV\tcurrency\t\n")
	for _, c := range sortedChurn(d.Churn) {
		if c.Currency != t.cur && c.Currency != "" {
			continue
		}
		r := churnRowOf(c)
		t.p("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Active, r.Churned, r.ChurnRate, r.RPR, r.AMPU, r.LTV, r.Currency)
	}
	t.flush()
}

// netCLV writes gross and net CLV per client and month.
func (t *textWriter) netCLV(d Data) {
	t.heading("Gross and net CLV per client (platform, %s; net = gross - acquisition - retention cost)", t.cur)
	t.p("month\tgross CLV\tacquisition\tretention\tnet CLV\t\n")
	for _, r := range netCLVRows(d.NetCLV) {
		if r.Currency == t.cur {
			t.p("%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Gross, r.Acquisition, r.Retention, r.Net)
		}
	}
	t.flush()
}

// crr writes the customer retention rate per month.
func (t *textWriter) crr(d Data) {
	t.heading("Customer retention rate (platform): CRR = (E - N) / S")
	t.p("month\tS\tE\tN\tCRR\t\n")
	for _, r := range crrRows(d.CRR) {
		t.p("%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Start, r.End, r.New, r.Rate)
	}
	t.flush()
}

// satisfaction writes NPS and CSAT of the businesses with the most answers.
func (t *textWriter) satisfaction(d Data) {
	rows := first(sortedNPS(d.NPS), 10)
	t.businesses("Satisfaction (businesses with the most answers)", []string{"NPS", "answers", "CSAT", "answers"},
		len(rows), func(i int) (string, []string) {
			r := npsRowOf(rows[i])
			return r.Name, []string{r.NPS, r.Responses, r.CSAT, r.CSATResponses}
		})
}

// ltvCAC writes the ten best LTV : CAC ratios.
func (t *textWriter) ltvCAC(d Data) {
	rows := first(sortedLTV(d.LTVCAC), 10)
	t.businesses("LTV : CAC (best ten)", []string{"new clients", "CAC", "LTV", "LTV : CAC", "currency"},
		len(rows), func(i int) (string, []string) {
			r := ltvRowOf(rows[i])
			return r.Name, []string{r.NewClients, r.CAC, r.LTV, r.Ratio, r.Currency}
		})
}

// businesses writes a section of n businesses under title: a column "business" (the name,
// truncated to 34 runes) and then columns, each row's name and cells from row.
func (t *textWriter) businesses(title string, columns []string, n int, row func(i int) (name string, cells []string)) {
	t.heading("%s", title)
	t.p("%-34s\t%s\t\n", "business", strings.Join(columns, "\t"))
	for i := range n {
		name, cells := row(i)
		t.p("%-34s\t%s\t\n", truncate(name, 34), strings.Join(cells, "\t"))
	}
	t.flush()
}

// deadLetters writes the dead letters per consumer, topic and reason.
func (t *textWriter) deadLetters(d Data) {
	var total int64
	dlq := sortedDLQ(d.DLQ)
	for _, x := range dlq {
		total += x.Count
	}
	t.heading("Dead letters: %d", total)
	if len(dlq) > 0 {
		wc, wt, wr := len("consumer"), len("topic"), len("reason")
		for _, x := range dlq {
			wc, wt, wr = max(wc, len([]rune(x.Consumer))), max(wt, len([]rune(x.Topic))), max(wr, len([]rune(truncate(x.Reason, 40))))
		}
		t.p("%-*s\t%-*s\t%-*s\trecords\t\n", wc, "consumer", wt, "topic", wr, "reason")
		for _, x := range dlq {
			t.p("%-*s\t%-*s\t%-*s\t%d\t\n", wc, x.Consumer, wt, x.Topic, wr, truncate(x.Reason, 40), x.Count)
		}
	}
	t.flush()
}

// cohortAxis returns the sorted distinct cohorts and the largest offset.
func cohortAxis(cells []RetentionCell) ([]time.Time, int) {
	var cohorts []time.Time
	seen := map[string]bool{}
	maxOff := 0
	for _, c := range cells {
		if k := monthLabel(c.Cohort); !seen[k] {
			seen[k] = true
			cohorts = append(cohorts, c.Cohort)
		}
		maxOff = max(maxOff, c.Offset)
	}
	slices.SortFunc(cohorts, func(a, b time.Time) int { return a.Compare(b) })
	return cohorts, maxOff
}

// first returns the first n elements of s, or all of s when it has fewer.
func first[T any](s []T, n int) []T { return s[:min(n, len(s))] }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
