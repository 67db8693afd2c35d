package statement

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/taskole/revshare/schemas"
)

var propCurrencies = []string{"EUR", "JPY", "BHD"}

const propMonths = 6 // entries are payable in months 0..5 from 2025-01

func month(k int) time.Time { return time.Date(2025, time.Month(1+k), 1, 0, 0, 0, 0, time.UTC) }

type propEntry struct {
	c      schemas.Commission
	arrive int // the month whose batch delivers it (≥ its payable month; later = late)
}

// genLedger draws a random ledger of one owner: accruals and reversals in three currencies,
// payable over six months, some delivered late (after their month closed).
func genLedger(t *rapid.T) []propEntry {
	n := rapid.IntRange(1, 60).Draw(t, "n")
	out := make([]propEntry, n)
	for i := range out {
		cur := rapid.SampledFrom(propCurrencies).Draw(t, "currency")
		exp, _ := schemas.MinorUnit(cur)
		minor := rapid.Int64Range(-4000, 9000).Filter(func(v int64) bool { return v != 0 }).Draw(t, "minor")
		k := rapid.IntRange(0, propMonths-1).Draw(t, "month")
		payable := month(k).Add(time.Duration(rapid.Int64Range(0, int64(28*24*time.Hour)-1).Draw(t, "offset")))
		occurred := payable.Add(-time.Duration(rapid.Int64Range(0, int64(14*24*time.Hour)).Draw(t, "hold")))
		if occurred.Before(month(k)) {
			occurred = month(k) // keep the entry's own batch from closing earlier months
		}
		kind := schemas.Accrual
		if minor < 0 {
			kind = schemas.Reversal
		}
		arrive := k
		if rapid.IntRange(0, 4).Draw(t, "late?") == 0 {
			arrive = k + rapid.IntRange(1, 2).Draw(t, "lateness")
		}
		out[i] = propEntry{arrive: arrive, c: schemas.Commission{
			CommissionID: fmt.Sprintf("c%03d", i), Kind: kind, Reason: schemas.ReasonCompleted,
			OwnerBusinessID: "owner", Currency: cur, Amount: decimal.New(minor, -exp),
			OccurredAt: occurred, PayableAt: payable,
		}}
	}
	return out
}

// feed delivers the ledger batch by batch (a batch: the entries arriving during a month, in
// a random order), closing each month after its batch the way the runner does (watermark =
// max occurred_at, Advance before Add), with a restart from the changelog encoding at random
// points. It returns the statements and the encoded statements.
func feed(t *rapid.T, e *Engine, ledger []propEntry, label string) ([]schemas.Payout, []byte) {
	var s State
	var out []schemas.Payout
	var w time.Time
	for b := 0; b < propMonths+3; b++ {
		var batch []schemas.Commission
		for _, pe := range ledger {
			if pe.arrive == b {
				batch = append(batch, pe.c)
			}
		}
		batch = rapid.Permutation(batch).Draw(t, label+" order")
		for _, c := range batch {
			if c.OccurredAt.After(w) {
				w = c.OccurredAt
			}
			out = e.Advance(out, &s, w)
			if _, err := e.Add(&s, c); err != nil {
				t.Fatalf("adding %s: %v", c.CommissionID, err)
			}
			if rapid.IntRange(0, 9).Draw(t, label+" restart?") == 0 {
				data, _ := s.MarshalBinary()
				s = State{}
				if err := s.UnmarshalBinary(data); err != nil {
					t.Fatalf("restoring: %v", err)
				}
			}
		}
		if end := e.CloseThrough(month(b + 1)); end.After(w) {
			w = end
		}
		out = e.Advance(out, &s, w)
	}
	var enc []byte
	for _, p := range out {
		enc = schemas.AppendPayout(enc, p)
		enc = append(enc, '\n')
	}
	return out, enc
}

func TestPropertyStatementsCoverLedger(t *testing.T) {
	e, err := New(Config{MinPayout: map[string]decimal.Decimal{"JPY": decimal.NewFromInt(3000)}})
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		ledger := genLedger(t)
		out, enc := feed(t, e, ledger, "first")
		_, enc2 := feed(t, e, ledger, "second")
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("statements differ between arrival orders:\n%s\n---\n%s", enc, enc2)
		}

		byID := map[string]propEntry{}
		total := map[string]decimal.Decimal{}
		for _, pe := range ledger {
			byID[pe.c.CommissionID] = pe
			total[pe.c.Currency] = total[pe.c.Currency].Add(pe.c.Amount)
		}
		covered := map[string]int{}
		paid := map[string]decimal.Decimal{}
		carried := map[string]decimal.Decimal{}
		last := map[string]schemas.Payout{}
		for _, p := range out {
			var acc, rev decimal.Decimal
			for _, id := range p.CommissionIDs {
				covered[id]++
				pe, ok := byID[id]
				if !ok || pe.c.Currency != p.Currency {
					t.Fatalf("statement %s names %s, not an entry of its currency", p.PayoutID, id)
				}
				if !p.PeriodStart.Equal(month(pe.arrive)) {
					t.Fatalf("entry %s (payable month %s, arrived in %d) in the statement of %s",
						id, pe.c.PayableAt, pe.arrive, p.PeriodStart)
				}
				if pe.c.Amount.Sign() > 0 {
					acc = acc.Add(pe.c.Amount)
				} else {
					rev = rev.Add(pe.c.Amount)
				}
			}
			if !acc.Equal(p.Accrued) || !rev.Equal(p.Reversed) || !acc.Add(rev).Equal(p.Net) {
				t.Fatalf("statement %s totals %s/%s, entries sum to %s/%s", p.PayoutID, p.Accrued, p.Reversed, acc, rev)
			}
			if !p.OpeningBalance.Add(p.Net).Equal(p.Payable.Add(p.CarriedForward)) {
				t.Fatalf("statement %s does not balance", p.PayoutID)
			}
			if p.Payable.Sign() < 0 || (p.Payable.Sign() > 0 && p.Payable.LessThan(e.MinPayout(p.Currency))) {
				t.Fatalf("statement %s pays %s", p.PayoutID, p.Payable)
			}
			if p.Payable.IsZero() && p.OpeningBalance.Add(p.Net).GreaterThanOrEqual(e.MinPayout(p.Currency)) &&
				p.OpeningBalance.Add(p.Net).Sign() > 0 {
				t.Fatalf("statement %s holds back a payable balance", p.PayoutID)
			}
			prev, seen := last[p.Currency]
			if seen && !p.OpeningBalance.Equal(prev.CarriedForward) {
				t.Fatalf("statement %s opens at %s, previous carried %s", p.PayoutID, p.OpeningBalance, prev.CarriedForward)
			}
			if seen && !p.PeriodStart.After(prev.PeriodStart) {
				t.Fatalf("statements of %s out of period order", p.Currency)
			}
			if !seen && !p.OpeningBalance.IsZero() {
				t.Fatalf("first statement of %s opens at %s", p.Currency, p.OpeningBalance)
			}
			last[p.Currency] = p
			paid[p.Currency] = paid[p.Currency].Add(p.Payable)
			carried[p.Currency] = p.CarriedForward
		}
		for id := range byID {
			if covered[id] != 1 {
				t.Fatalf("entry %s covered %d times", id, covered[id])
			}
		}
		for cur, sum := range total {
			if !paid[cur].Add(carried[cur]).Equal(sum) {
				t.Fatalf("%s: paid %s + carried %s ≠ ledger %s", cur, paid[cur], carried[cur], sum)
			}
		}
	})
}
