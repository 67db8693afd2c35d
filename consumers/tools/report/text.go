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
	cur := d.chartCurrency()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(tw, format, args...)
		}
	}
	flush := func() {
		if err == nil {
			err = tw.Flush()
		}
	}
	title := cmp.Or(d.Title, "Taskole marketplace report")
	p("%s\n%s\n", title, strings.Repeat("=", len([]rune(title))))
	flush()
	width := 0
	for _, f := range d.Summary {
		width = max(width, len([]rune(f.Label))+1)
	}
	for _, f := range d.Summary {
		p("%-*s  %s\n", width, f.Label+":", f.Value)
	}
	flush()

	p("\nTop owners by passive income (%s)\n", cur)
	flush()
	p("%-34s\tclients\tdirect value\tclients' spend elsewhere\tcommissions\t\n", "owner")
	top := topOwners(d.Owners, cur, 10)
	for _, o := range top {
		p("%-34s\t%d\t%s\t%s\t%s\t\n", truncate(cmp.Or(o.Name, o.BusinessID), 34), o.Clients,
			money(o.Direct, cur), money(o.Elsewhere, cur), money(o.Commissions, cur))
	}
	if len(top) == 0 {
		p("(none)\t\t\t\t\t\n")
	}
	flush()

	p("\nRetention: %% of each cohort with a purchase in month +k\n")
	flush()
	cohorts, maxOff := cohortAxis(d.Retention)
	cells := map[string]RetentionCell{}
	for _, c := range d.Retention {
		cells[fmt.Sprintf("%s/%d", monthLabel(c.Cohort), c.Offset)] = c
	}
	p("cohort\tsize\t")
	for k := 0; k <= maxOff; k++ {
		p("+%d\t", k)
	}
	p("\n")
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
		p("%s\t%d\t%s\n", key, size, row)
	}
	flush()

	p("\nRealized CLV per cohort client (%s, direct + indirect, cumulative)\n", cur)
	flush()
	clv := map[string]CLVPoint{}
	var clvPts []RetentionCell
	for _, pt := range d.CLV {
		if pt.Currency == cur {
			clv[fmt.Sprintf("%s/%d", monthLabel(pt.Cohort), pt.Offset)] = pt
			clvPts = append(clvPts, RetentionCell{Cohort: pt.Cohort, Offset: pt.Offset})
		}
	}
	cohorts, maxOff = cohortAxis(clvPts)
	p("cohort\t")
	for k := 0; k <= maxOff; k++ {
		p("+%d\t", k)
	}
	p("\n")
	for _, c := range cohorts {
		key := monthLabel(c)
		p("%s\t", key)
		for k := 0; k <= maxOff; k++ {
			if pt, ok := clv[fmt.Sprintf("%s/%d", key, k)]; ok {
				p("%s\t", money(pt.Total(), cur))
			} else {
				p("\t")
			}
		}
		p("\n")
	}
	flush()

	p("\nChurn, repeat purchases, LTV (platform, AMPU and LTV in %s)\n", cur)
	flush()
	p("month\tactive at start\tchurned\tchurn\tRPR\tAMPU\tLTV\tcurrency\t\n")
	for _, c := range sortedChurn(d.Churn) {
		if c.Currency != cur && c.Currency != "" {
			continue
		}
		r := churnRowOf(c)
		p("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Active, r.Churned, r.ChurnRate, r.RPR, r.AMPU, r.LTV, r.Currency)
	}
	flush()

	p("\nGross and net CLV per client (platform, %s; net = gross - acquisition - retention cost)\n", cur)
	flush()
	p("month\tgross CLV\tacquisition\tretention\tnet CLV\t\n")
	for _, r := range netCLVRows(d.NetCLV) {
		if r.Currency == cur {
			p("%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Gross, r.Acquisition, r.Retention, r.Net)
		}
	}
	flush()

	p("\nCustomer retention rate (platform): CRR = (E - N) / S\n")
	flush()
	p("month\tS\tE\tN\tCRR\t\n")
	for _, r := range crrRows(d.CRR) {
		p("%s\t%s\t%s\t%s\t%s\t\n", r.Month, r.Start, r.End, r.New, r.Rate)
	}
	flush()

	p("\nSatisfaction (businesses with the most answers)\n")
	flush()
	p("%-34s\tNPS\tanswers\tCSAT\tanswers\t\n", "business")
	for i, s := range sortedNPS(d.NPS) {
		if i == 10 {
			break
		}
		r := npsRowOf(s)
		p("%-34s\t%s\t%s\t%s\t%s\t\n", truncate(r.Name, 34), r.NPS, r.Responses, r.CSAT, r.CSATResponses)
	}
	flush()

	p("\nLTV : CAC (best ten)\n")
	flush()
	p("%-34s\tnew clients\tCAC\tLTV\tLTV : CAC\tcurrency\t\n", "business")
	for i, x := range sortedLTV(d.LTVCAC) {
		if i == 10 {
			break
		}
		r := ltvRowOf(x)
		p("%-34s\t%s\t%s\t%s\t%s\t%s\t\n", truncate(r.Name, 34), r.NewClients, r.CAC, r.LTV, r.Ratio, r.Currency)
	}
	flush()

	var total int64
	dlq := sortedDLQ(d.DLQ)
	for _, x := range dlq {
		total += x.Count
	}
	p("\nDead letters: %d\n", total)
	flush()
	if len(dlq) > 0 {
		wc, wt, wr := len("consumer"), len("topic"), len("reason")
		for _, x := range dlq {
			wc, wt, wr = max(wc, len([]rune(x.Consumer))), max(wt, len([]rune(x.Topic))), max(wr, len([]rune(truncate(x.Reason, 40))))
		}
		p("%-*s\t%-*s\t%-*s\trecords\t\n", wc, "consumer", wt, "topic", wr, "reason")
		for _, x := range dlq {
			p("%-*s\t%-*s\t%-*s\t%d\t\n", wc, x.Consumer, wt, x.Topic, wr, truncate(x.Reason, 40), x.Count)
		}
	}
	flush()
	if err != nil {
		return fmt.Errorf("writing text report: %w", err)
	}
	return nil
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

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
