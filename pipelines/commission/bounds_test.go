package commission

import (
	"errors"
	"testing"
	"time"

	"github.com/taskole/revshare/schemas"
)

var y9999 = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// TestFarFutureCannotHijack is finding 1 of issue 11: a businesses event dated 9999 with rate 1
// was in force for 2025 bookings, and enrollments or completed bookings dated 9999 took over
// clients that had an owner (UnixNano wrapped to 1816). Both are refused now, by the bounds.
func TestFarFutureCannotHijack(t *testing.T) {
	rates := testRates()
	if err := rates.Apply(schemas.Business{EventID: "evil", BusinessID: "A", ReferralRate: dec("1"), OccurredAt: y9999}); err == nil {
		t.Fatal("rates: a 9999-dated event was applied")
	}
	if err := rates.Apply(schemas.Business{EventID: "evil2", BusinessID: "A", ReferralRate: dec("0.050000000000000000000000000001"), OccurredAt: at(1)}); err == nil {
		t.Fatal("rates: a 30-decimal rate was applied")
	}
	if r, _ := rates.At("A", at(5)); !r.Equal(dec("0.07")) {
		t.Fatalf("rate of A at a 2025 booking = %s, want 0.07", r)
	}
	e, err := New(Config{}, rates)
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if _, err := e.Enrollment(&s, enroll("e1", "A", 0)); err != nil {
		t.Fatal(err)
	}
	evilEnroll := schemas.Enrollment{EventID: "x1", ClientID: "c1", BusinessID: "X", OccurredAt: y9999}
	evilBooking := completed("x2", "bx", "X", "10.00", "EUR", 0)
	evilBooking.OccurredAt = y9999
	zero := completed("x3", "by", "X", "10.00", "EUR", 0)
	zero.OccurredAt = time.Time{}
	for _, ev := range []any{evilEnroll, evilBooking, zero} {
		before, _ := s.MarshalBinary()
		res, err := apply(e, &s, ev)
		var ie *schemas.InvalidError
		if !errors.As(err, &ie) || ie.Label() != "occurred_at:range" {
			t.Fatalf("%+v: error %v, want occurred_at:range", ev, err)
		}
		if res.Owner != nil || len(res.Commissions) != 0 {
			t.Fatalf("%+v: result %+v", ev, res)
		}
		if after, _ := s.MarshalBinary(); string(after) != string(before) {
			t.Fatalf("%+v changed the state", ev)
		}
	}
	res, err := e.Booking(&s, completed("k1", "b1", "P", "100.00", "EUR", 5))
	if err != nil || len(res.Commissions) != 1 || res.Commissions[0].OwnerBusinessID != "A" || !res.Commissions[0].Amount.Equal(dec("7")) {
		t.Fatalf("2025 booking: %+v, %v; want 7.00 to A", res.Commissions, err)
	}
}

// TestNoWrapAtTheBounds: the extreme valid times, plus hold and horizon, come back exactly
// from every conversion (state, commissions, owner), and Config refuses what could wrap.
func TestNoWrapAtTheBounds(t *testing.T) {
	last := schemas.DefaultMaxTime.Add(-time.Nanosecond)
	first := schemas.DefaultMinTime
	for _, tm := range []time.Time{first, last} {
		e, err := New(Config{Hold: schemas.TimeSlack, Horizon: schemas.TimeSlack}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s State
		ev := completed("k1", "b1", "P", "1000000000000.00", "EUR", 0)
		ev.OccurredAt = tm
		if _, err := e.Enrollment(&s, schemas.Enrollment{EventID: "e1", ClientID: "c1", BusinessID: "A", OccurredAt: tm}); err != nil {
			t.Fatal(err)
		}
		res, err := e.Booking(&s, ev)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Commissions[0]
		if !c.OccurredAt.Equal(tm) || !c.PayableAt.Equal(tm.Add(schemas.TimeSlack)) {
			t.Errorf("%s: commission times %s, %s", tm, c.OccurredAt, c.PayableAt)
		}
		if !c.Amount.Equal(dec("50000000000")) {
			t.Errorf("%s: amount %s", tm, c.Amount)
		}
		data, _ := s.MarshalBinary()
		var back State
		if err := back.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if o, _ := back.Owner(); !o.OwnedSince.Equal(tm) {
			t.Errorf("owned_since after the changelog: %s, want %s", o.OwnedSince, tm)
		}
		e.Prune(&back, tm)
		if back.Bookings() != 1 {
			t.Errorf("%s: prune at its own time dropped the booking", tm)
		}
	}
	if _, err := New(Config{Hold: schemas.TimeSlack + time.Hour}, nil); err == nil {
		t.Error("a hold beyond the slack was accepted")
	}
	if _, err := New(Config{Bounds: schemas.Bounds{MaxTime: time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil); err == nil {
		t.Error("a latest event time whose slack passes 2262 was accepted")
	}
}

// TestHorizonPerClient: a client's bookings are pruned by its own clock only (finding 2 of
// issue 11), so a booking far in another client's future never cuts them.
func TestHorizonPerClient(t *testing.T) {
	e, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a, far State
	if _, err := e.Booking(&a, completed("k1", "b1", "P", "100.00", "EUR", 0)); err != nil {
		t.Fatal(err)
	}
	f := bev("x1", "bx", "P", schemas.StatusCreated, 0)
	f.OccurredAt = time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := e.Booking(&far, f); err != nil {
		t.Fatal(err)
	}
	if e.PruneOwn(&a) || a.Bookings() != 1 {
		t.Fatal("own-clock prune dropped a client's only booking")
	}
	if _, err := e.Booking(&a, refunded("k2", "b1", "P", "10.00", "EUR", 1)); err != nil {
		t.Fatalf("refund: %v", err)
	}
	// The client's own booking 401 days later moves its clock: b1 is pruned, its events refused.
	if _, err := e.Booking(&a, completed("k3", "b2", "P", "100.00", "EUR", 24*401)); err != nil {
		t.Fatal(err)
	}
	if a.Bookings() != 1 {
		t.Fatalf("bookings kept = %d, want 1", a.Bookings())
	}
	if _, err := e.Booking(&a, refunded("k4", "b1", "P", "10.00", "EUR", 24*401)); err == nil {
		t.Fatal("refund of a booking past the client's own horizon was accepted")
	}
}
