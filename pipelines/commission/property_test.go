package commission

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
	"pgregory.net/rapid"
)

// history is everything that happens to one client, before delivery.
type history struct {
	rates    []schemas.Business
	enrolls  []schemas.Enrollment
	bookings [][]schemas.Booking // each booking's events in lifecycle order (duplicates included)
}

var propBusinesses = []string{"A", "B", "C", "D"}

func genHistory(t *rapid.T) history {
	var h history
	hour := func(lo, hi int) time.Time { return at(rapid.IntRange(lo, hi).Draw(t, "hour")) }
	for i, b := range propBusinesses {
		n := rapid.IntRange(0, 2).Draw(t, "rates")
		for j := 0; j < n; j++ {
			h.rates = append(h.rates, schemas.Business{
				EventID: fmt.Sprintf("r%d%d", i, j), BusinessID: b, OccurredAt: hour(0, 40),
				ReferralRate: decimal.New(int64(rapid.IntRange(0, 300).Draw(t, "rate")), -3),
			})
		}
	}
	for i, n := 0, rapid.IntRange(0, 4).Draw(t, "enrollments"); i < n; i++ {
		h.enrolls = append(h.enrolls, schemas.Enrollment{
			EventID: fmt.Sprintf("e%d", i), ClientID: "c1", OccurredAt: hour(0, 30),
			BusinessID: rapid.SampledFrom(propBusinesses).Draw(t, "enroller"),
		})
	}
	for i, n := 0, rapid.IntRange(0, 5).Draw(t, "bookings"); i < n; i++ {
		id := fmt.Sprintf("b%d", i)
		provider := rapid.SampledFrom(propBusinesses).Draw(t, "provider")
		cur := rapid.SampledFrom([]string{"EUR", "JPY", "BHD"}).Draw(t, "currency")
		exp, _ := schemas.MinorUnit(cur)
		now := rapid.IntRange(0, 30).Draw(t, "start")
		seq := 0
		var evs []schemas.Booking
		add := func(st schemas.Status) *schemas.Booking {
			seq++
			now += rapid.IntRange(0, 3).Draw(t, "step")
			evs = append(evs, schemas.Booking{EventID: fmt.Sprintf("k%d.%d", i, seq), BookingID: id, ClientID: "c1",
				BusinessID: provider, Status: st, OccurredAt: at(now)})
			return &evs[len(evs)-1]
		}
		// created? confirmed? (each independently, so any step may be skipped: created →
		// completed is an instant booking) then nothing | cancelled | completed refunds* [cancelled].
		if rapid.Bool().Draw(t, "created") {
			add(schemas.StatusCreated)
		}
		if rapid.Bool().Draw(t, "confirmed") {
			add(schemas.StatusConfirmed)
		}
		switch rapid.IntRange(0, 5).Draw(t, "end") {
		case 0:
		case 1:
			add(schemas.StatusCancelled)
		default:
			amount := int64(rapid.IntRange(1, 100000).Draw(t, "amount"))
			c := add(schemas.StatusCompleted)
			c.Amount, c.Currency = decimal.New(amount, -exp), cur
			left := amount
			for r := rapid.IntRange(0, 3).Draw(t, "refunds"); r > 0 && left > 0; r-- {
				x := int64(rapid.IntRange(1, int(left)).Draw(t, "refund"))
				left -= x
				f := add(schemas.StatusRefunded)
				f.RefundAmount = decimal.New(x, -exp)
				if rapid.Bool().Draw(t, "refund currency") {
					f.Currency = cur
				}
			}
			if left == amount && rapid.IntRange(0, 3).Draw(t, "cancel") == 0 {
				add(schemas.StatusCancelled)
			}
		}
		// Duplicates: redeliver some events later in the booking's sequence.
		for d := rapid.IntRange(0, 2).Draw(t, "dups"); d > 0 && len(evs) > 0; d-- {
			k := rapid.IntRange(0, len(evs)-1).Draw(t, "dup of")
			pos := rapid.IntRange(k+1, len(evs)).Draw(t, "dup at")
			evs = append(evs[:pos], append([]schemas.Booking{evs[k]}, evs[pos:]...)...)
		}
		h.bookings = append(h.bookings, evs)
	}
	return h
}

type ownerBooking struct{ owner, booking string }

// reference computes the final owner and the net per (owner, booking) from the whole history.
func reference(h history, rates *Rates, def decimal.Decimal) (owner, ownerEvent string, net map[ownerBooking]decimal.Decimal) {
	var ot time.Time
	consider := func(b, id string, t time.Time) {
		if owner == "" || t.Before(ot) || (t.Equal(ot) && id < ownerEvent) {
			owner, ownerEvent, ot = b, id, t
		}
	}
	for _, e := range h.enrolls {
		consider(e.BusinessID, e.EventID, e.OccurredAt)
	}
	type fin struct {
		id, provider, cur string
		at                time.Time
		amount, left      decimal.Decimal
	}
	var done []fin
	for _, evs := range h.bookings {
		var f *fin
		for _, ev := range distinct(evs) {
			switch ev.Status {
			case schemas.StatusCompleted:
				consider(ev.BusinessID, ev.EventID, ev.OccurredAt)
				f = &fin{id: ev.BookingID, provider: ev.BusinessID, cur: ev.Currency, at: ev.OccurredAt, amount: ev.Amount, left: ev.Amount}
			case schemas.StatusRefunded:
				f.left = f.left.Sub(ev.RefundAmount)
			case schemas.StatusCancelled:
				if f != nil {
					f.left = decimal.Zero
				}
			}
		}
		if f != nil {
			done = append(done, *f)
		}
	}
	net = map[ownerBooking]decimal.Decimal{}
	for _, f := range done {
		if f.provider == owner {
			continue
		}
		rate, ok := rates.At(owner, f.at)
		if !ok {
			rate = def
		}
		exp, _ := schemas.MinorUnit(f.cur)
		if v := f.left.Mul(rate).RoundBank(exp); !v.IsZero() {
			net[ownerBooking{owner, f.id}] = v
		}
	}
	return owner, ownerEvent, net
}

func TestOrderIndependence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		e, rates := historyEngine(t, h)
		wantOwner, wantEvent, wantNet := reference(h, rates, Config{}.WithDefaults().DefaultRate)

		order := deliveryOrder(t, h)
		restoreAt := rapid.IntRange(0, len(order)).Draw(t, "restore at")

		run := func(restore int) []schemas.Commission {
			var s State
			var all []schemas.Commission
			net := map[ownerBooking]decimal.Decimal{}
			for i, ev := range order {
				if i == restore {
					b, err := s.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					s = State{}
					if err := e.UnmarshalState(&s, b); err != nil {
						t.Fatalf("restoring state: %v", err)
					}
					if b2, _ := s.MarshalBinary(); string(b2) != string(b) {
						t.Fatalf("marshal round trip differs")
					}
				}
				res, err := apply(e, &s, ev)
				if err != nil {
					t.Fatalf("event %d %+v: %v", i, ev, err)
				}
				for _, c := range res.Commissions {
					if (c.Kind == schemas.Accrual) != (c.Amount.Sign() > 0) || c.Amount.IsZero() {
						t.Fatalf("entry with kind %s and amount %s", c.Kind, c.Amount)
					}
					k := ownerBooking{c.OwnerBusinessID, c.BookingID}
					net[k] = net[k].Add(c.Amount)
					if net[k].Sign() < 0 {
						t.Fatalf("reversals exceed accruals for %v: %s", k, net[k])
					}
				}
				all = append(all, res.Commissions...)
			}
			o, ok := s.Owner()
			if ok != (wantOwner != "") || o.OwnerBusinessID != wantOwner || o.EventID != wantEvent {
				t.Fatalf("owner %+v, want %s by %s", o, wantOwner, wantEvent)
			}
			for k, v := range net {
				if v.IsZero() {
					delete(net, k)
				}
			}
			if len(net) != len(wantNet) {
				t.Fatalf("net %v, want %v", net, wantNet)
			}
			for k, v := range wantNet {
				if !net[k].Equal(v) {
					t.Fatalf("net %v = %s, want %s (all: %v)", k, net[k], v, net)
				}
			}
			return all
		}
		first := run(restoreAt)
		again := run(-1) // a replay of the same input yields the same ledger, without the restore too
		if len(first) != len(again) {
			t.Fatalf("replay produced %d entries, first run %d", len(again), len(first))
		}
		ids := map[string]bool{}
		for i := range first {
			if !sameCommission(first[i], again[i]) {
				t.Fatalf("replay entry %d differs:\n%+v\n%+v", i, first[i], again[i])
			}
			if ids[first[i].CommissionID] {
				t.Fatalf("commission id %s repeated", first[i].CommissionID)
			}
			ids[first[i].CommissionID] = true
		}
	})
}

// deliveryOrder interleaves h at random: each booking is a queue (lifecycle order kept),
// enrollments are free; some enrollments are delivered twice.
// distinct returns evs without the redeliveries of an event (the first of each event id kept).
func distinct(evs []schemas.Booking) []schemas.Booking {
	seen := map[string]bool{}
	var out []schemas.Booking
	for _, ev := range evs {
		if !seen[ev.EventID] {
			seen[ev.EventID] = true
			out = append(out, ev)
		}
	}
	return out
}

// historyEngine is an Engine of the default Config over the rates of h.
func historyEngine(t *rapid.T, h history) (*Engine, *Rates) {
	rates := NewRates()
	for _, r := range h.rates {
		rates.Apply(r)
	}
	e, err := New(Config{}, rates)
	if err != nil {
		t.Fatal(err)
	}
	return e, rates
}

func deliveryOrder(t *rapid.T, h history) []any {
	queues := make([][]any, 0, len(h.bookings)+len(h.enrolls))
	for _, evs := range h.bookings {
		q := make([]any, len(evs))
		for i, ev := range evs {
			q[i] = ev
		}
		queues = append(queues, q)
	}
	for _, en := range h.enrolls {
		q := []any{en}
		if rapid.IntRange(0, 3).Draw(t, "enrollment dup") == 0 {
			q = append(q, en)
		}
		queues = append(queues, q)
	}
	var order []any
	for {
		var open []int
		for i, q := range queues {
			if len(q) > 0 {
				open = append(open, i)
			}
		}
		if len(open) == 0 {
			break
		}
		i := open[rapid.IntRange(0, len(open)-1).Draw(t, "next")]
		order = append(order, queues[i][0])
		queues[i] = queues[i][1:]
	}
	return order
}
