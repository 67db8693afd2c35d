package commission

import (
	"bytes"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/taskole/revshare/schemas"
)

// fct is the gist of one expected purchase fact.
type fct struct {
	kind       string // FactPurchase, FactRefund, FactCancellation, FactCommission
	purchases  int8
	amount     string
	refunded   string
	owner      string // commission deltas
	commission string
}

func purchaseFact(amount string) fct { return fct{FactPurchase, 1, amount, "0", "", "0"} }
func refundFact(r string) fct        { return fct{FactRefund, 0, "0", r, "", "0"} }
func cancelFact(amount, r string) fct {
	return fct{FactCancellation, -1, "-" + amount, r, "", "0"}
}
func commissionFact(owner, amount string) fct { return fct{FactCommission, 0, "0", "0", owner, amount} }

// TestFactTransitions pins the facts of every change (and non-change) of a booking's
// judgement: the last event of each case is judged, the ones before it set the scene.
// Every fact of booking b1 carries its completion time, t0+5h.
func TestFactTransitions(t *testing.T) {
	tests := []struct {
		name  string
		setup []any
		ev    any
		want  []fct
	}{
		{"created: not a purchase", nil, bev("k0", "b1", "P", schemas.StatusCreated, 1), nil},
		{"confirmed: not a purchase", []any{bev("k0", "b1", "P", schemas.StatusCreated, 1)},
			bev("k1", "b1", "P", schemas.StatusConfirmed, 2), nil},
		{"completed elsewhere: a purchase and the owner's accrual", []any{enroll("e1", "B", 0)},
			completed("k2", "b1", "P", "100.00", "EUR", 5), []fct{purchaseFact("100.00"), commissionFact("B", "5.00")}},
		{"completed at the owner: a purchase, direct value", []any{enroll("e1", "P", 0)},
			completed("k2", "b1", "P", "100.00", "EUR", 5), []fct{purchaseFact("100.00")}},
		{"completed by a client without an owner: a purchase, its provider becomes the owner", nil,
			completed("k2", "b1", "P", "100.00", "EUR", 5), []fct{purchaseFact("100.00")}},
		{"completed at rate zero: a purchase, no entry", []any{enroll("e1", "Z", 0)},
			completed("k2", "b1", "P", "100.00", "EUR", 5), []fct{purchaseFact("100.00")}},
		{"refunded: the refund and the owner's reversal", []any{enroll("e1", "B", 0), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			refunded("k3", "b1", "P", "40.00", "EUR", 7), []fct{refundFact("40.00"), commissionFact("B", "-2.00")}},
		{"refunded at the owner: the refund only", []any{enroll("e1", "P", 0), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			refunded("k3", "b1", "P", "40.00", "EUR", 7), []fct{refundFact("40.00")}},
		{"refund too small to move the commission: the refund only", []any{enroll("e1", "B", 0), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			refunded("k3", "b1", "P", "0.01", "EUR", 7), []fct{refundFact("0.01")}},
		{"cancelled after completion: the purchase undone and the owner's reversal", []any{enroll("e1", "B", 0), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			cancelled("k4", "b1", "P", 9), []fct{cancelFact("100.00", "0"), commissionFact("B", "-5.00")}},
		{"cancelled before completion: nothing", []any{bev("k0", "b1", "P", schemas.StatusCreated, 1)},
			cancelled("k4", "b1", "P", 9), nil},
		{"cancelled, never seen before: nothing", nil, cancelled("k4", "b1", "P", 9), nil},
		{"a redelivered completion: nothing", []any{enroll("e1", "B", 0), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			completed("k2", "b1", "P", "100.00", "EUR", 5), nil},
		{"a late enrollment moves the booking: the owners' entries, at the completion time",
			[]any{enroll("e1", "B", 3), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			enroll("e0", "A", 1), []fct{commissionFact("B", "-5.00"), commissionFact("A", "7.00")}},
		{"a late enrollment by the provider: the old owner's reversal only",
			[]any{enroll("e1", "B", 3), completed("k2", "b1", "P", "100.00", "EUR", 5)},
			enroll("e0", "P", 1), []fct{commissionFact("B", "-5.00")}},
	}
	rates := testRates()
	rates.Apply(schemas.Business{EventID: "rz", BusinessID: "Z", ReferralRate: decimal.Zero, OccurredAt: at(-10)})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Config{}, rates)
			if err != nil {
				t.Fatal(err)
			}
			var s State
			for i, ev := range tc.setup {
				if _, err := apply(e, &s, ev); err != nil {
					t.Fatalf("setup %d: %v", i, err)
				}
			}
			res, err := apply(e, &s, tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Facts) != len(tc.want) {
				t.Fatalf("facts %+v, want %v", res.Facts, tc.want)
			}
			for i, w := range tc.want {
				checkFact(t, res, i, w, tc.ev)
			}
		})
	}
}

// checkFact compares fact i of res with w; trigger is the event judged.
func checkFact(t *testing.T, res Result, i int, w fct, trigger any) {
	t.Helper()
	f := res.Facts[i]
	var id string
	var when time.Time
	switch ev := trigger.(type) {
	case schemas.Booking:
		id, when = ev.EventID, ev.OccurredAt
	case schemas.Enrollment:
		id, when = ev.EventID, ev.OccurredAt
	}
	cid := ""
	if w.kind == FactCommission {
		for _, c := range res.Commissions {
			if c.OwnerBusinessID == f.CommissionOwner && c.Amount.Equal(f.Commission) {
				cid = c.CommissionID
			}
		}
		if cid == "" {
			t.Fatalf("fact %d %+v matches no ledger entry of %+v", i, f, res.Commissions)
		}
	}
	switch {
	case f.Purchases != w.purchases || !f.Amount.Equal(dec(w.amount)) || !f.Refunded.Equal(dec(w.refunded)) ||
		f.CommissionOwner != w.owner || !f.Commission.Equal(dec(w.commission)):
		t.Fatalf("fact %d: %+v, want %+v", i, f, w)
	case f.FactID != FactID(w.kind, id, "b1", cid) || f.SourceEventID != id || !f.OccurredAt.Equal(when):
		t.Fatalf("fact %d: id %s, source %s at %s; want the %s delta of %s", i, f.FactID, f.SourceEventID, f.OccurredAt, w.kind, id)
	case f.BookingID != "b1" || f.ClientID != "c1" || f.ProviderBusinessID != "P" || f.Currency != "EUR" || !f.CompletedAt.Equal(at(5)):
		t.Fatalf("fact %d: booking fields %+v", i, f)
	}
	enc := schemas.AppendPurchaseFact(nil, f)
	if _, err := schemas.DecodePurchaseFact(enc); err != nil {
		t.Fatalf("fact %d: its own decoder refuses %s: %v", i, enc, err)
	}
}

// bookingSum is what the facts of one booking add up to.
type bookingSum struct {
	purchases  int
	amount     decimal.Decimal
	refunded   decimal.Decimal
	commission map[string]decimal.Decimal // by owner
	completed  time.Time
}

// judgement is the reference: each booking's purchase judgement from the whole history
// (each event once), without owners.
func judgement(h history) map[string]bookingSum {
	out := map[string]bookingSum{}
	for _, evs := range h.bookings {
		var sum bookingSum
		var id string
		for _, ev := range distinct(evs) {
			switch ev.Status {
			case schemas.StatusCompleted:
				id, sum.purchases, sum.amount, sum.completed = ev.BookingID, 1, ev.Amount, ev.OccurredAt
			case schemas.StatusRefunded:
				sum.refunded = sum.refunded.Add(ev.RefundAmount)
			case schemas.StatusCancelled:
				sum.purchases, sum.amount, sum.refunded = 0, decimal.Zero, decimal.Zero
			}
		}
		if id != "" {
			out[id] = sum
		}
	}
	return out
}

// TestFactsSumToJudgement: for random histories delivered in random orders (the generators
// of TestOrderIndependence), the facts summed per booking are the booking's final judgement
// (purchase or not, amount, refunded) and, per owner, the net of the ledger entries; every
// fact of a booking carries its completion time, decodes with its own decoder and has an id
// of its own; a replay, with or without a restore from the changelog on the way, gives
// byte-identical facts.
func TestFactsSumToJudgement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		e, rates := historyEngine(t, h)
		_, _, wantNet := reference(h, rates, Config{}.WithDefaults().DefaultRate)
		want := judgement(h)
		order := deliveryOrder(t, h)
		restoreAt := rapid.IntRange(0, len(order)).Draw(t, "restore at")

		first := runFacts(t, e, order, restoreAt, want, wantNet)
		again := runFacts(t, e, order, -1, want, wantNet)
		if !bytes.Equal(first, again) {
			t.Fatalf("replay facts differ:\n%s\n%s", first, again)
		}
	})
}

// runFacts applies order (restoring the state from its encoding before event restore) and
// checks the facts against want and wantNet; it returns the facts encoded, one per line.
func runFacts(t *rapid.T, e *Engine, order []any, restore int, want map[string]bookingSum,
	wantNet map[ownerBooking]decimal.Decimal) []byte {
	var s State
	var out []byte
	got := map[string]*bookingSum{}
	ledger := map[ownerBooking]decimal.Decimal{}
	ids := map[string]bool{}
	for i, ev := range order {
		if i == restore {
			b, _ := s.MarshalBinary()
			s = State{}
			if err := e.UnmarshalState(&s, b); err != nil {
				t.Fatalf("restoring state: %v", err)
			}
		}
		res, err := apply(e, &s, ev)
		if err != nil {
			t.Fatalf("event %d %+v: %v", i, ev, err)
		}
		for _, c := range res.Commissions {
			k := ownerBooking{c.OwnerBusinessID, c.BookingID}
			ledger[k] = ledger[k].Add(c.Amount)
		}
		for _, f := range res.Facts {
			if ids[f.FactID] {
				t.Fatalf("fact id %s repeated", f.FactID)
			}
			ids[f.FactID] = true
			enc := schemas.AppendPurchaseFact(nil, f)
			if _, err := schemas.DecodePurchaseFact(enc); err != nil {
				t.Fatalf("the decoder refuses fact %s: %v", enc, err)
			}
			out = append(append(out, enc...), '\n')
			sum := got[f.BookingID]
			if sum == nil {
				sum = &bookingSum{commission: map[string]decimal.Decimal{}, completed: f.CompletedAt}
				got[f.BookingID] = sum
			}
			if !f.CompletedAt.Equal(sum.completed) {
				t.Fatalf("fact %+v: completed_at %s, an earlier fact of the booking said %s", f, f.CompletedAt, sum.completed)
			}
			sum.purchases += int(f.Purchases)
			sum.amount, sum.refunded = sum.amount.Add(f.Amount), sum.refunded.Add(f.Refunded)
			if f.CommissionOwner != "" {
				sum.commission[f.CommissionOwner] = sum.commission[f.CommissionOwner].Add(f.Commission)
			}
		}
	}
	checkSums(t, got, want, ledger, wantNet)
	return out
}

// checkSums compares the facts' sums per booking with the judgement and the ledger.
func checkSums(t *rapid.T, got map[string]*bookingSum, want map[string]bookingSum,
	ledger, wantNet map[ownerBooking]decimal.Decimal) {
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Fatalf("booking %s: no facts, want %+v", id, w)
		}
		if g.purchases != w.purchases || !g.amount.Equal(w.amount) || !g.refunded.Equal(w.refunded) || !g.completed.Equal(w.completed) {
			t.Fatalf("booking %s: facts sum to %+v, want %+v", id, *g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Fatalf("booking %s was never completed but has facts %+v", id, *g)
		}
		for owner, v := range g.commission {
			k := ownerBooking{owner, id}
			if !v.Equal(ledger[k]) || !v.Equal(wantNet[k]) {
				t.Fatalf("booking %s owner %s: facts' commission %s, ledger net %s, reference %s", id, owner, v, ledger[k], wantNet[k])
			}
		}
	}
	for k, v := range ledger {
		if g := got[k.booking]; !v.IsZero() && (g == nil || !g.commission[k.owner].Equal(v)) {
			t.Fatalf("ledger net %s for %v has no matching facts", v, k)
		}
	}
}

// TestFactID: a commission delta's id is its commission_id; the others hash kind, trigger
// and booking, the same inputs giving the same id and any other input another.
func TestFactID(t *testing.T) {
	base := FactID(FactPurchase, "ev1", "b1", "")
	tests := []struct {
		name                        string
		kind, trigger, booking, cid string
		want                        string // "" : any id but base
	}{
		{"commission: its commission_id", FactCommission, "ev1", "b1", "c0ffee", "c0ffee"},
		{"purchase: deterministic", FactPurchase, "ev1", "b1", "", base},
		{"refund of the same trigger", FactRefund, "ev1", "b1", "", ""},
		{"cancellation of the same trigger", FactCancellation, "ev1", "b1", "", ""},
		{"another trigger", FactPurchase, "ev2", "b1", "", ""},
		{"another booking", FactPurchase, "ev1", "b2", "", ""},
		{"fields do not run together", FactPurchase, "ev1b", "1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FactID(tt.kind, tt.trigger, tt.booking, tt.cid)
			switch {
			case tt.want != "" && got != tt.want:
				t.Fatalf("FactID = %q, want %q", got, tt.want)
			case tt.want == "" && (got == base || len(got) != 32):
				t.Fatalf("FactID = %q, want a 32-digit id other than %q", got, base)
			}
		})
	}
}

// TestAppendBookingFactsReuses: reusing a facts slice that still holds another event's facts
// gives the facts of a fresh call, in the reused array.
func TestAppendBookingFactsReuses(t *testing.T) {
	e := benchEngine(t)
	base := ownedState(t, e)
	ev := benchBookings(1)[0]
	asOf := time.Unix(0, 1<<62)
	s1 := base
	want, err := e.AppendBookingAsOf(nil, &s1, ev, asOf)
	if err != nil || len(want.Facts) != 2 {
		t.Fatalf("fresh: %v, %d facts", err, len(want.Facts))
	}
	stale := []schemas.PurchaseFact{{FactID: "stale"}, {FactID: "stale"}, {FactID: "stale"}}
	s2 := base
	got, err := e.AppendBookingFactsAsOf(nil, stale[:0], &s2, ev, asOf)
	switch {
	case err != nil:
		t.Fatal(err)
	case len(got.Facts) != len(want.Facts) || &got.Facts[0] != &stale[0]:
		t.Fatalf("got %d facts (reused: %v), want %d in the reused slice", len(got.Facts), &got.Facts[0] == &stale[0], len(want.Facts))
	}
	for i := range want.Facts {
		if !bytes.Equal(schemas.AppendPurchaseFact(nil, got.Facts[i]), schemas.AppendPurchaseFact(nil, want.Facts[i])) {
			t.Errorf("fact %d = %+v, want %+v", i, got.Facts[i], want.Facts[i])
		}
	}
}
