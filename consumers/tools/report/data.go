// Package report renders the Taskole marketplace report from the BI query pack's results: a
// single self-contained HTML file with inline SVG charts (retention heatmap, CLV curves per
// cohort, passive income per owner) and tables (churn, NPS/CSAT, LTV : CAC, dead letters),
// and the same figures as plain text for a terminal.
//
// The package computes nothing from raw events: Data holds what the queries returned, and
// the renderers only derive ratios for display (retention share, NPS, LTV : CAC), so the
// report's figures equal the query pack's on the same data.
package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Data is everything a report shows. Months and cohorts are UTC month starts. Money is per
// currency (no conversion); rows of several currencies may be mixed.
type Data struct {
	Title       string    // default "Taskole marketplace report"
	GeneratedAt time.Time // shown in the header; zero: not shown
	// Currency selects the money series the charts draw (default: the currency with the
	// most owner rows). Tables show every currency.
	Currency string
	// Summary holds headline figures, shown as cards in this order.
	Summary []Figure

	Retention []RetentionCell // cohort × month offset
	CLV       []CLVPoint      // cumulative value per cohort client × month offset
	Owners    []Owner         // passive income per owner business
	Churn     []ChurnMonth    // platform churn, RPR, AMPU, LTV per month
	NPS       []Satisfaction  // NPS and CSAT per business
	LTVCAC    []LTVCAC        // acquisition cost against lifetime value per business
	NetCLV    []CLVMonth      // platform gross and net CLV per month (netclv.go)
	CRR       []RetentionRate // platform customer retention rate per month (netclv.go)
	DLQ       []DeadLetters   // dead-letter counts by consumer, topic and reason
	Predicted *Predicted      // predicted CLV (nil: `taskole predict` has not run)
}

// Figure is one headline number, already formatted.
type Figure struct {
	Label string
	Value string
}

// RetentionCell is one cell of the retention triangle: of the Size clients of Cohort, Active
// made at least one purchase in month Cohort+Offset.
type RetentionCell struct {
	Cohort time.Time
	Offset int
	Size   int64
	Active int64
}

// Rate is Active / Size (0 for an empty cohort).
func (c RetentionCell) Rate() float64 {
	if c.Size == 0 {
		return 0
	}
	return float64(c.Active) / float64(c.Size)
}

// CLVPoint is the realized CLV of a cohort up to month Cohort+Offset: cumulative net value
// per cohort client, split into direct (at the owner) and indirect (elsewhere) value, and
// the commissions the owner earned from the indirect part.
type CLVPoint struct {
	Cohort      time.Time
	Offset      int
	Currency    string
	Direct      decimal.Decimal
	Indirect    decimal.Decimal
	Commissions decimal.Decimal
}

// Total is direct plus indirect value per client.
func (p CLVPoint) Total() decimal.Decimal { return p.Direct.Add(p.Indirect) }

// Owner is one referral-owner business's value over the report period.
type Owner struct {
	BusinessID string
	Name       string
	Sector     string
	Currency   string
	Clients    int64           // clients it owns
	Direct     decimal.Decimal // its own bookings with its clients
	Elsewhere  decimal.Decimal // its clients' net value at other businesses
	// Commissions is the passive income: net commissions earned on Elsewhere.
	Commissions decimal.Decimal
}

// ChurnMonth is platform-wide churn and value for one month (counts are currency-free; AMPU
// and LTV are in Currency).
type ChurnMonth struct {
	Month         time.Time
	ActiveAtStart int64
	Churned       int64   // active at the first instant, not at the last
	RepeatRate    float64 // RPR: clients with ≥ 2 purchases / clients with ≥ 1
	Currency      string
	AMPU          decimal.Decimal
	LTV           decimal.NullDecimal // invalid when churn is zero
}

// ChurnRate is Churned / ActiveAtStart (0 when nobody was active).
func (c ChurnMonth) ChurnRate() float64 {
	if c.ActiveAtStart == 0 {
		return 0
	}
	return float64(c.Churned) / float64(c.ActiveAtStart)
}

// Satisfaction is a business's NPS (0–10) and CSAT (1–5) answers over the period.
type Satisfaction struct {
	BusinessID    string
	Name          string
	NPSResponses  int64
	Promoters     int64 // scores 9–10
	Detractors    int64 // scores 0–6
	CSATResponses int64
	Satisfied     int64 // scores 4–5
}

// NPS is % promoters − % detractors, in [−100, 100]; ok is false without answers.
func (s Satisfaction) NPS() (nps float64, ok bool) {
	if s.NPSResponses == 0 {
		return 0, false
	}
	return 100 * float64(s.Promoters-s.Detractors) / float64(s.NPSResponses), true
}

// CSAT is the % of CSAT answers scoring 4–5; ok is false without answers.
func (s Satisfaction) CSAT() (csat float64, ok bool) {
	if s.CSATResponses == 0 {
		return 0, false
	}
	return 100 * float64(s.Satisfied) / float64(s.CSATResponses), true
}

// LTVCAC compares a business's acquisition cost per client with the lifetime value of its
// clients.
type LTVCAC struct {
	BusinessID string
	Name       string
	Currency   string
	NewClients int64 // clients whose ownership it established
	Spend      decimal.Decimal
	CAC        decimal.NullDecimal // Spend / NewClients; invalid without new clients
	LTV        decimal.NullDecimal // invalid when churn was zero
}

// Ratio is LTV / CAC rounded half-even to 2 places; ok is false when either is missing or
// CAC is zero.
func (r LTVCAC) Ratio() (decimal.Decimal, bool) {
	if !r.CAC.Valid || !r.LTV.Valid || r.CAC.Decimal.IsZero() {
		return decimal.Decimal{}, false
	}
	return r.LTV.Decimal.DivRound(r.CAC.Decimal, 6).RoundBank(2), true
}

// DeadLetters counts dead-letter records of one consumer, source topic and reason.
type DeadLetters struct {
	Consumer string
	Topic    string
	Reason   string
	Count    int64
}

// chartCurrency is the currency the charts draw.
func (d *Data) chartCurrency() string {
	if d.Currency != "" {
		return d.Currency
	}
	n := map[string]int{}
	for _, o := range d.Owners {
		n[o.Currency]++
	}
	for _, p := range d.CLV {
		n[p.Currency]++
	}
	best := "EUR"
	for c, k := range n {
		if k > n[best] || (k == n[best] && c < best) {
			best = c
		}
	}
	return best
}

// topOwners returns up to n owners in currency cur, by commissions then direct value.
func topOwners(owners []Owner, cur string, n int) []Owner {
	var out []Owner
	for _, o := range owners {
		if o.Currency == cur {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b Owner) int {
		return cmp.Or(b.Commissions.Cmp(a.Commissions), b.Direct.Cmp(a.Direct), cmp.Compare(a.BusinessID, b.BusinessID))
	})
	return out[:min(n, len(out))]
}

// money formats d at its currency's minor unit (half-even), with thousands separators.
func money(d decimal.Decimal, cur string) string {
	exp, ok := schemas.MinorUnit(cur)
	if !ok {
		exp = 2
	}
	s := d.RoundBank(exp).StringFixed(exp)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac := s, ""
	for i := range s {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i:]
			break
		}
	}
	var b []byte
	for i := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, intPart[i])
	}
	out := string(b) + frac
	if neg {
		out = "-" + out
	}
	return out
}

func monthLabel(t time.Time) string { return t.UTC().Format("2006-01") }
