package statement

import (
	"fmt"
	"math"
	"time"

	"github.com/taskole/revshare/schemas"
)

// Sourced is a ledger entry with the watermark of its ledger input partition before it (zero:
// none; see schemas.SourceWatermarkHeader).
type Sourced struct {
	schemas.Commission
	Source time.Time
}

// Coverage is how the statements cover the ledger: which entries are in the statement of the
// period of their payable_at. Only periods the final low watermark closed count.
type Coverage struct {
	Entries   int       // distinct ledger entries
	Low       time.Time // the final low watermark over every ledger input partition (zero: none)
	OpenFrom  time.Time // the first period it leaves open
	Closed    int       // entries payable in a closed period
	OnTime    int       // of those, not late in event time
	InOwn     int       // on time and in their period's statement
	Misplaced int       // on time but in another period's statement
	InNone    int       // on time and in no statement
	Late      int       // late entries of closed periods
	LateNamed int       // late entries a statement lists as late
}

func (c Coverage) String() string {
	share := 0.0
	if c.Closed > 0 {
		share = 100 * float64(c.InOwn) / float64(c.Closed)
	}
	return fmt.Sprintf("%d commissions; %d payable before %s (periods closed by the low watermark %s): "+
		"%d in the statement of their month (%.2f%%), %d late in event time (%d of them named late in a later statement), "+
		"%d on time but in another statement, %d in none",
		c.Entries, c.Closed, c.OpenFrom.Format("2006-01-02"), c.Low.Format(time.RFC3339), c.InOwn, share, c.Late, c.LateNamed,
		c.Misplaced, c.InNone)
}

// lowWatermark is the low watermark over markers, in Unix nanoseconds (0: none): every input
// partition of the latest input set, at its largest.
func lowWatermark(markers []schemas.LedgerProgress) int64 {
	wm := map[string]int64{}
	var inputs []schemas.InputTopic
	for _, m := range markers {
		inputs = m.Inputs
		for _, p := range m.Progress {
			k := fmt.Sprintf("%s/%d", p.Topic, p.Partition)
			if !p.Watermark.IsZero() {
				wm[k] = max(wm[k], p.Watermark.UnixNano())
			}
		}
	}
	if len(inputs) == 0 {
		return 0
	}
	low := int64(math.MaxInt64)
	for _, in := range inputs {
		for p := range in.Partitions {
			low = min(low, wm[fmt.Sprintf("%s/%d", in.Topic, p)])
		}
	}
	return low
}

// statementPlace is where a commission is: its statement's period and whether the statement
// lists it as late.
type statementPlace struct {
	period time.Time
	late   bool
}

// statementOf maps each commission id of statements to its place; a commission in two
// statements is an error.
func statementOf(statements []schemas.Payout) (map[string]statementPlace, error) {
	in := map[string]statementPlace{}
	for _, st := range statements {
		late := map[string]bool{}
		for _, id := range st.LateCommissionIDs {
			late[id] = true
		}
		for _, id := range st.CommissionIDs {
			if _, dup := in[id]; dup {
				return nil, fmt.Errorf("commission %s is in two statements", id)
			}
			in[id] = statementPlace{st.PeriodStart, late[id]}
		}
	}
	return in, nil
}

// CheckCoverage computes the Coverage of statements over entries, with the final low watermark
// over markers (each the latest progress of its input partitions, as the ledger wrote them).
func CheckCoverage(cfg Config, entries []Sourced, markers []schemas.LedgerProgress, statements []schemas.Payout) (Coverage, error) {
	e, err := New(cfg)
	if err != nil {
		return Coverage{}, err
	}
	var cov Coverage
	if low := lowWatermark(markers); low > 0 {
		cov.Low = time.Unix(0, low).UTC()
		cov.OpenFrom = e.OpenFrom(cov.Low)
	}
	in, err := statementOf(statements)
	if err != nil {
		return cov, err
	}
	seen := map[string]bool{}
	for _, c := range entries {
		if seen[c.CommissionID] {
			continue
		}
		seen[c.CommissionID] = true
		cov.Entries++
		start, end := e.PeriodOf(c.PayableAt)
		if cov.Low.IsZero() || end.Add(e.delay).After(cov.Low) {
			continue // its period is still open
		}
		cov.Closed++
		w, ok := in[c.CommissionID]
		if !c.Source.IsZero() && !c.Source.Before(end.Add(e.delay)) {
			cov.Late++
			if ok && w.late && w.period.After(start) {
				cov.LateNamed++
			}
			continue
		}
		cov.OnTime++
		switch {
		case !ok:
			cov.InNone++
		case w.period.Equal(start):
			cov.InOwn++
		default:
			cov.Misplaced++
		}
	}
	return cov, nil
}
