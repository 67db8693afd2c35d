package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// factSum is what the purchase facts of one booking add up to.
type factSum struct {
	purchases                    int64
	amount, refunded, commission decimal.Decimal
}

// generateFacts returns n bookings' worth of purchase facts as the ledger writes them (keyed
// by client): each booking a purchase and its owner's accrual, every third refunded in part
// (the refund and the owner's reversal), every seventh then cancelled (its undoing and the
// rest reversed), every fifth direct (no commission). want is the sum per booking.
func generateFacts(tp schemas.Topics, seed string, n int) (dataset, map[string]factSum) {
	d := dataset{rows: map[string]uint64{}}
	want := map[string]factSum{}
	for i := 0; i < n; i++ {
		c, booking := fmt.Sprintf("%s-c%d", seed, i%97), fmt.Sprintf("%s-fb%d", seed, i)
		done := t0.Add(time.Duration(i) * time.Minute)
		amt := decimal.New(int64(1000+i), -2)
		base := schemas.PurchaseFact{ClientID: c, BookingID: booking, ProviderBusinessID: "biz3", Currency: "EUR", CompletedAt: done}
		var sum factSum
		emit := func(kind, ev string, at time.Time, f schemas.PurchaseFact) {
			f.SourceEventID, f.OccurredAt = ev, at
			f.FactID = commission.FactID(kind, ev, booking, f.CommissionOwner+ev)
			d.recs = append(d.recs, &kgo.Record{Topic: string(tp.PurchaseFacts), Key: []byte(c), Value: schemas.AppendPurchaseFact(nil, f)})
			d.rows["purchase_facts"]++
			sum.purchases += int64(f.Purchases)
			sum.amount, sum.refunded = sum.amount.Add(f.Amount), sum.refunded.Add(f.Refunded)
			sum.commission = sum.commission.Add(f.Commission)
		}
		direct := i%5 == 0
		cm := func(kind, ev string, at time.Time, v decimal.Decimal) {
			if !direct {
				f := base
				f.CommissionOwner, f.Commission = "biz1", v
				emit(kind, ev, at, f)
			}
		}
		f := base
		f.Purchases, f.Amount = 1, amt
		emit(commission.FactPurchase, booking+"-done", done, f)
		cm(commission.FactCommission, booking+"-done", done, amt.Mul(decimal.New(7, -2)).RoundBank(2))
		kept := amt.Mul(decimal.New(7, -2)).RoundBank(2)
		refunded := decimal.Zero
		if i%3 == 0 {
			refunded = decimal.New(500, -2)
			at := done.Add(time.Hour)
			f := base
			f.Refunded = refunded
			emit(commission.FactRefund, booking+"-refund", at, f)
			after := amt.Sub(refunded).Mul(decimal.New(7, -2)).RoundBank(2)
			cm(commission.FactCommission, booking+"-refund", at, after.Sub(kept))
			kept = after
		}
		if i%7 == 0 {
			at := done.Add(48 * time.Hour)
			f := base
			f.Purchases, f.Amount, f.Refunded = -1, amt.Neg(), refunded.Neg()
			emit(commission.FactCancellation, booking+"-cancel", at, f)
			cm(commission.FactCommission, booking+"-cancel", at, kept.Neg())
		}
		want[booking] = sum
	}
	return d, want
}

// verifyFacts checks that purchase_facts holds no fact twice (count() = uniqExact(fact_id))
// and that, per booking, the stored facts sum to want.
func (e *testEnv) verifyFacts(t *testing.T, want map[string]factSum) {
	t.Helper()
	n, u := e.count(t, "SELECT count() FROM purchase_facts"), e.count(t, "SELECT uniqExact(fact_id) FROM purchase_facts")
	if n != u {
		t.Errorf("purchase_facts: %d rows, %d distinct fact ids", n, u)
	}
	rows, err := e.conn.Query(context.Background(), "SELECT booking_id, sum(toInt64(purchases)), toString(sum(amount)), "+
		"toString(sum(refunded)), toString(sum(commission)) FROM purchase_facts GROUP BY booking_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			id                string
			p                 int64
			amount, ref, comm string
		)
		if err := rows.Scan(&id, &p, &amount, &ref, &comm); err != nil {
			t.Fatal(err)
		}
		seen++
		w, ok := want[id]
		got := factSum{p, decimal.RequireFromString(amount), decimal.RequireFromString(ref), decimal.RequireFromString(comm)}
		if !ok || got.purchases != w.purchases || !got.amount.Equal(w.amount) || !got.refunded.Equal(w.refunded) || !got.commission.Equal(w.commission) {
			t.Errorf("booking %s: stored facts sum to %+v, want %+v (known: %v)", id, got, w, ok)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("purchase_facts holds %d bookings, want %d", seen, len(want))
	}
}
