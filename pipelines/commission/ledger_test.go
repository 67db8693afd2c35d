package commission

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus n hours.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func enroll(id, business string, h int) schemas.Enrollment {
	return schemas.Enrollment{EventID: id, ClientID: "c1", BusinessID: business, OccurredAt: at(h)}
}

func bev(id, booking, provider string, st schemas.Status, h int) schemas.Booking {
	return schemas.Booking{EventID: id, BookingID: booking, ClientID: "c1", BusinessID: provider, Status: st, OccurredAt: at(h)}
}

func completed(id, booking, provider, amount, cur string, h int) schemas.Booking {
	b := bev(id, booking, provider, schemas.StatusCompleted, h)
	b.Amount, b.Currency = dec(amount), cur
	return b
}

func refunded(id, booking, provider, amount, cur string, h int) schemas.Booking {
	b := bev(id, booking, provider, schemas.StatusRefunded, h)
	b.RefundAmount, b.Currency = dec(amount), cur
	return b
}

func cancelled(id, booking, provider string, h int) schemas.Booking {
	return bev(id, booking, provider, schemas.StatusCancelled, h)
}

// ent is the gist of one expected ledger entry.
type ent struct {
	kind    schemas.CommissionKind
	reason  schemas.Reason
	owner   string
	booking string
	amount  string
}

func acc(reason schemas.Reason, owner, booking, amount string) ent {
	return ent{schemas.Accrual, reason, owner, booking, amount}
}

func rev(reason schemas.Reason, owner, booking, amount string) ent {
	return ent{schemas.Reversal, reason, owner, booking, amount}
}

// step is one event and what it must do.
type step struct {
	ev    any // schemas.Enrollment or schemas.Booking
	want  []ent
	err   string // InvalidError label
	dup   bool
	owner string // when set: the owner after the step
}

const (
	done    = schemas.ReasonCompleted
	refund  = schemas.ReasonRefund
	cancel  = schemas.ReasonCancellation
	correct = schemas.ReasonOwnershipCorrection
)

// testRates: A 0.07 since 2020, B none (default), R 0.10 from t0+10h, ties at t0+20h.
func testRates() *Rates {
	r := NewRates()
	r.Apply(schemas.Business{EventID: "r1", BusinessID: "A", ReferralRate: dec("0.07"), OccurredAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	r.Apply(schemas.Business{EventID: "r2", BusinessID: "R", ReferralRate: dec("0.10"), OccurredAt: at(10)})
	r.Apply(schemas.Business{EventID: "r4", BusinessID: "R", ReferralRate: dec("0.20"), OccurredAt: at(20)})
	r.Apply(schemas.Business{EventID: "r3", BusinessID: "R", ReferralRate: dec("0.30"), OccurredAt: at(20)})
	r.Apply(schemas.Business{EventID: "j1", BusinessID: "J", ReferralRate: dec("0.05"), OccurredAt: at(-1000)})
	return r
}

func apply(e *Engine, s *State, ev any) (Result, error) {
	switch ev := ev.(type) {
	case schemas.Enrollment:
		return e.Enrollment(s, ev)
	case schemas.Booking:
		return e.Booking(s, ev)
	}
	panic(fmt.Sprintf("unknown event %T", ev))
}

func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"EUR accrual at the default rate", []step{
			{ev: enroll("e1", "B", 0), owner: "B"},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
		}},
		{"EUR accrual at the owner's rate", []step{
			{ev: enroll("e1", "A", 0)},
			{ev: completed("k1", "b1", "P", "49.90", "EUR", 5), want: []ent{acc(done, "A", "b1", "3.49")}}, // 3.493
		}},
		{"EUR half-even 0.125 → 0.12", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "2.50", "EUR", 5), want: []ent{acc(done, "B", "b1", "0.12")}},
		}},
		{"EUR half-even 0.135 → 0.14", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "2.70", "EUR", 5), want: []ent{acc(done, "B", "b1", "0.14")}},
		}},
		{"EUR 0.1255 rounds up", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "2.51", "EUR", 5), want: []ent{acc(done, "B", "b1", "0.13")}},
		}},
		{"EUR below half a cent: nothing emitted", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "0.10", "EUR", 5)}, // 0.005 → 0.00
		}},
		{"JPY half-even 62.5 → 62, 67.5 → 68", []step{
			{ev: enroll("e1", "J", 0)},
			{ev: completed("k1", "b1", "P", "1250", "JPY", 5), want: []ent{acc(done, "J", "b1", "62")}},
			{ev: completed("k2", "b2", "P", "1350", "JPY", 6), want: []ent{acc(done, "J", "b2", "68")}},
			{ev: refunded("k3", "b2", "P", "10", "JPY", 7), want: []ent{rev(refund, "J", "b2", "-1")}}, // 67 → 67.0 (1340×0.05)
		}},
		{"BHD three decimals, half-even", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "0.250", "BHD", 5), want: []ent{acc(done, "B", "b1", "0.012")}},  // 0.0125
			{ev: completed("k2", "b2", "P", "0.270", "BHD", 6), want: []ent{acc(done, "B", "b2", "0.014")}},  // 0.0135
			{ev: completed("k3", "b3", "P", "12.345", "BHD", 7), want: []ent{acc(done, "B", "b3", "0.617")}}, // 0.61725
		}},
		{"partial and repeated refunds reverse exactly the accrual", []step{
			{ev: enroll("e1", "A", 0)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "A", "b1", "7.00")}},
			{ev: refunded("k2", "b1", "P", "33.33", "EUR", 6), want: []ent{rev(refund, "A", "b1", "-2.33")}}, // 66.67×0.07=4.6669→4.67
			{ev: refunded("k3", "b1", "P", "33.33", "", 7), want: []ent{rev(refund, "A", "b1", "-2.34")}},    // 33.34×0.07=2.3338→2.33
			{ev: refunded("k4", "b1", "P", "33.34", "EUR", 8), want: []ent{rev(refund, "A", "b1", "-2.33")}}, // 0
			{ev: refunded("k5", "b1", "P", "0.01", "EUR", 9), err: schemas.LabelRefundExceeds},
		}},
		{"tiny refund that does not change the rounded commission emits nothing", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: refunded("k2", "b1", "P", "0.01", "EUR", 6)},                                               // 99.99×0.05=4.9995→5.00
			{ev: refunded("k3", "b1", "P", "0.10", "EUR", 7), want: []ent{rev(refund, "B", "b1", "-0.01")}}, // 99.89×0.05=4.9945→4.99
		}},
		{"cancellation after completion reverses the rest", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: bev("k0", "b1", "P", schemas.StatusConfirmed, 1)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: refunded("k2", "b1", "P", "40.00", "EUR", 6), want: []ent{rev(refund, "B", "b1", "-2.00")}},
			{ev: cancelled("k3", "b1", "P", 7), err: schemas.LabelInvalidTransition}, // refunded → cancelled is not allowed
		}},
		{"cancellation right after completion", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "80.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "4.00")}},
			{ev: cancelled("k2", "b1", "P", 7), want: []ent{rev(cancel, "B", "b1", "-4.00")}},
			{ev: refunded("k3", "b1", "P", "1.00", "EUR", 8), err: schemas.LabelAfterCancelled},
			{ev: cancelled("k2", "b1", "P", 7), dup: true},
		}},
		{"refund beyond what is left leaves the state unchanged", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: refunded("k2", "b1", "P", "60.00", "EUR", 6), want: []ent{rev(refund, "B", "b1", "-3.00")}},
			{ev: refunded("k3", "b1", "P", "40.01", "EUR", 7), err: schemas.LabelRefundExceeds},
			{ev: refunded("k4", "b1", "P", "40.00", "EUR", 8), want: []ent{rev(refund, "B", "b1", "-2.00")}},
		}},
		{"refund in another currency", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: refunded("k2", "b1", "P", "10.00", "USD", 6), err: schemas.LabelCurrencyMismatch},
		}},
		{"created then completed (confirmed skipped) accrues and refunds", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: bev("k1", "b1", "P", schemas.StatusCreated, 1)},
			{ev: completed("k2", "b1", "P", "10.00", "EUR", 2), want: []ent{acc(done, "B", "b1", "0.50")}},
			{ev: refunded("k3", "b1", "P", "4.00", "EUR", 3), want: []ent{rev(refund, "B", "b1", "-0.20")}},
		}},
		{"refund before completed", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: refunded("k1", "b1", "P", "10.00", "EUR", 1), err: schemas.LabelRefundNotCompleted},
			{ev: bev("k2", "b1", "P", schemas.StatusCreated, 2)},
			{ev: refunded("k3", "b1", "P", "10.00", "EUR", 3), err: schemas.LabelRefundNotCompleted},
		}},
		{"impossible transitions", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: bev("k1", "b1", "P", schemas.StatusCreated, 1)},
			{ev: bev("k2", "b1", "P", schemas.StatusCreated, 2), err: schemas.LabelInvalidTransition},
			{ev: bev("k4", "b1", "P", schemas.StatusConfirmed, 4)},
			{ev: bev("k3", "b1", "P", schemas.StatusCreated, 3), err: schemas.LabelInvalidTransition}, // backwards
			{ev: completed("k5", "b1", "P", "10.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "0.50")}},
			{ev: bev("k6", "b1", "P", schemas.StatusConfirmed, 6), err: schemas.LabelInvalidTransition},
			{ev: completed("k7", "b1", "P", "10.00", "EUR", 7), err: schemas.LabelInvalidTransition},
			{ev: bev("k8", "b2", "P", schemas.StatusCancelled, 8)},
			{ev: bev("k9", "b2", "P", schemas.StatusConfirmed, 9), err: schemas.LabelAfterCancelled},
			{ev: bev("k10", "b1", "Q", schemas.StatusRefunded, 10), err: schemas.LabelProviderMismatch},
		}},
		{"bad completed events", []step{
			{ev: enroll("e1", "B", 0)},
			{ev: completed("k1", "b1", "P", "0", "EUR", 1), err: schemas.LabelNonPositiveAmount},
			{ev: completed("k2", "b1", "P", "-5", "EUR", 1), err: schemas.LabelNonPositiveAmount},
			{ev: completed("k3", "b1", "P", "5", "XXX", 1), err: schemas.LabelUnknownCurrency},
			{ev: bev("k4", "b1", "P", schemas.StatusUnknown, 1), err: schemas.LabelUnknownStatus},
			{ev: refunded("k5", "b9", "P", "0", "EUR", 1), err: schemas.LabelRefundNotCompleted},
			{ev: schemas.Enrollment{EventID: "e2", BusinessID: "B"}, err: "client_id:invalid"},
			// the zero time is out of range, not "required" (SPEC R8 bounds)
			{ev: schemas.Enrollment{EventID: "e3", ClientID: "c1", BusinessID: "B"}, err: "occurred_at:range"},
			{ev: completed("k6", "b1", "P", "2.502", "EUR", 1), err: "amount:range"},
		}},
		{"duplicates have no effect", []step{
			{ev: enroll("e1", "B", 0), owner: "B"},
			{ev: enroll("e1", "B", 0), dup: true},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), dup: true},
			{ev: refunded("k2", "b1", "P", "50.00", "EUR", 6), want: []ent{rev(refund, "B", "b1", "-2.50")}},
			{ev: refunded("k2", "b1", "P", "50.00", "EUR", 6), dup: true},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), dup: true},
		}},
		{"direct value: a booking with the owner accrues nothing", []step{
			{ev: enroll("e1", "A", 0)},
			{ev: completed("k1", "b1", "A", "100.00", "EUR", 5)},
			{ev: refunded("k2", "b1", "A", "100.00", "EUR", 6)},
		}},
		{"a completed booking establishes ownership", []step{
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), owner: "P"},
			{ev: completed("k2", "b2", "Q", "100.00", "EUR", 6), want: []ent{acc(done, "P", "b2", "5.00")}, owner: "P"},
			{ev: enroll("e1", "A", 7), owner: "P"}, // rejected: later
		}},
		{"ownership correction by a late enrollment", []step{
			{ev: enroll("e2", "B", 2), owner: "B"},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: completed("k2", "b2", "A", "50.00", "EUR", 6), want: []ent{acc(done, "B", "b2", "2.50")}},
			{ev: refunded("k3", "b1", "P", "10.00", "EUR", 7), want: []ent{rev(refund, "B", "b1", "-0.50")}},
			{ev: enroll("e1", "A", 1), owner: "A", want: []ent{
				rev(correct, "B", "b1", "-4.50"), acc(correct, "A", "b1", "6.30"), // 90×0.07
				rev(correct, "B", "b2", "-2.50"), // b2 is A's own: direct value
			}},
			{ev: refunded("k4", "b1", "P", "90.00", "EUR", 8), want: []ent{rev(refund, "A", "b1", "-6.30")}},
		}},
		{"late completed booking takes ownership and re-judges", []step{
			{ev: enroll("e2", "B", 4), owner: "B"},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: completed("k2", "b2", "A", "20.00", "EUR", 3), owner: "A", want: []ent{
				rev(correct, "B", "b1", "-5.00"), acc(correct, "A", "b1", "7.00"),
			}},
			{ev: enroll("e2", "B", 4)}, // rejected now, no effect
		}},
		{"ties on occurred_at: smaller event_id wins", []step{
			{ev: enroll("e9", "B", 1), owner: "B"},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 5), want: []ent{acc(done, "B", "b1", "5.00")}},
			{ev: enroll("e1", "A", 1), owner: "A", want: []ent{rev(correct, "B", "b1", "-5.00"), acc(correct, "A", "b1", "7.00")}},
			{ev: enroll("e5", "B", 1), owner: "A"},
		}},
		{"rate lookups: in force at the booking's time, ties take the larger event_id", []step{
			{ev: enroll("e1", "R", 0)},
			{ev: completed("k1", "b1", "P", "100.00", "EUR", 9), want: []ent{acc(done, "R", "b1", "5.00")}},   // before R's first rate: default
			{ev: completed("k2", "b2", "P", "100.00", "EUR", 10), want: []ent{acc(done, "R", "b2", "10.00")}}, // exactly at occurred_at
			{ev: completed("k3", "b3", "P", "100.00", "EUR", 19), want: []ent{acc(done, "R", "b3", "10.00")}},
			{ev: completed("k4", "b4", "P", "100.00", "EUR", 20), want: []ent{acc(done, "R", "b4", "20.00")}}, // r4 > r3
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Config{}, testRates())
			if err != nil {
				t.Fatal(err)
			}
			var s State
			for i, st := range tt.steps {
				before, _ := s.MarshalBinary()
				res, err := apply(e, &s, st.ev)
				if st.err != "" {
					var ie *schemas.InvalidError
					if !errors.As(err, &ie) || ie.Label() != st.err {
						t.Fatalf("step %d: error %v, want label %s", i, err, st.err)
					}
					if after, _ := s.MarshalBinary(); string(after) != string(before) {
						t.Fatalf("step %d: state changed by an invalid event", i)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if res.Duplicate != st.dup {
					t.Fatalf("step %d: duplicate %v, want %v", i, res.Duplicate, st.dup)
				}
				var got []ent
				for _, c := range res.Commissions {
					got = append(got, ent{c.Kind, c.Reason, c.OwnerBusinessID, c.BookingID, c.Amount.String()})
				}
				if len(got) != len(st.want) {
					t.Fatalf("step %d: entries %v, want %v", i, got, st.want)
				}
				for j := range got {
					w := st.want[j]
					if got[j].kind != w.kind || got[j].reason != w.reason || got[j].owner != w.owner || got[j].booking != w.booking ||
						!res.Commissions[j].Amount.Equal(dec(w.amount)) {
						t.Fatalf("step %d: entry %d is %v, want %v", i, j, got[j], w)
					}
				}
				if st.owner != "" {
					o, ok := s.Owner()
					if !ok || o.OwnerBusinessID != st.owner {
						t.Fatalf("step %d: owner %q, want %q", i, o.OwnerBusinessID, st.owner)
					}
				}
			}
		})
	}
}

func TestEntryFields(t *testing.T) {
	e, err := New(Config{Hold: 48 * time.Hour}, testRates())
	if err != nil {
		t.Fatal(err)
	}
	var s State
	r, err := e.Enrollment(&s, enroll("e1", "A", 0))
	if err != nil || r.Owner == nil {
		t.Fatalf("enrollment: %v %+v", err, r)
	}
	wantOwner := schemas.ReferralOwner{ClientID: "c1", OwnerBusinessID: "A", OwnedSince: at(0), Source: schemas.OwnerByEnrollment, EventID: "e1"}
	if *r.Owner != wantOwner {
		t.Fatalf("owner %+v, want %+v", *r.Owner, wantOwner)
	}
	r, err = e.Booking(&s, completed("k1", "b1", "P", "100.00", "EUR", 5))
	if err != nil || len(r.Commissions) != 1 {
		t.Fatalf("completed: %v %+v", err, r)
	}
	c := r.Commissions[0]
	want := schemas.Commission{
		CommissionID: commissionID("k1", "b1", "A", schemas.Accrual, done), Kind: schemas.Accrual, Reason: done,
		OwnerBusinessID: "A", ProviderBusinessID: "P", ClientID: "c1", BookingID: "b1",
		BookingAmount: dec("100.00"), Rate: dec("0.07"), Amount: dec("7.00"), Currency: "EUR",
		OccurredAt: at(5), PayableAt: at(5 + 48), SourceEventID: "k1",
	}
	if !sameCommission(c, want) {
		t.Fatalf("accrual\n got %+v\nwant %+v", c, want)
	}
	if len(c.CommissionID) != 32 {
		t.Fatalf("commission id %q", c.CommissionID)
	}
	// A refund inside the hold: payable with the accrual. After it: at the refund.
	r, _ = e.Booking(&s, refunded("k2", "b1", "P", "10.00", "EUR", 6))
	if c := r.Commissions[0]; !c.PayableAt.Equal(at(53)) || !c.OccurredAt.Equal(at(6)) || c.SourceEventID != "k2" || !c.Amount.Equal(dec("-0.70")) {
		t.Fatalf("early reversal %+v", c)
	}
	r, _ = e.Booking(&s, refunded("k3", "b1", "P", "10.00", "EUR", 100))
	if c := r.Commissions[0]; !c.PayableAt.Equal(at(100)) || c.CommissionID == want.CommissionID {
		t.Fatalf("late reversal %+v", c)
	}
	if o, _ := s.Owner(); o.ClientID != "" || o.OwnerBusinessID != "A" || !o.OwnedSince.Equal(at(0)) || o.EventID != "e1" {
		t.Fatalf("Owner() %+v", o)
	}
}

func sameCommission(a, b schemas.Commission) bool {
	return a.CommissionID == b.CommissionID && a.Kind == b.Kind && a.Reason == b.Reason &&
		a.OwnerBusinessID == b.OwnerBusinessID && a.ProviderBusinessID == b.ProviderBusinessID &&
		a.ClientID == b.ClientID && a.BookingID == b.BookingID && a.BookingAmount.Equal(b.BookingAmount) &&
		a.Rate.Equal(b.Rate) && a.Amount.Equal(b.Amount) && a.Currency == b.Currency &&
		a.OccurredAt.Equal(b.OccurredAt) && a.PayableAt.Equal(b.PayableAt) && a.SourceEventID == b.SourceEventID
}

func TestDefaultRate(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "5.00"},
		{Config{DefaultRate: dec("0.1")}, "10.00"},
		{Config{DefaultRate: dec("0.125")}, "12.50"},
	} {
		e, err := New(tt.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s State
		e.Enrollment(&s, enroll("e1", "B", 0))
		r, err := e.Booking(&s, completed("k1", "b1", "P", "100", "EUR", 1))
		if err != nil || len(r.Commissions) != 1 || !r.Commissions[0].Amount.Equal(dec(tt.want)) {
			t.Fatalf("%v: %+v %v, want %s", tt.cfg.DefaultRate, r.Commissions, err, tt.want)
		}
	}
	for _, cfg := range []Config{{DefaultRate: dec("-0.1")}, {DefaultRate: dec("1.5")}, {Hold: -1}, {Horizon: -1}} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestRatesAt(t *testing.T) {
	r := testRates()
	for _, tt := range []struct {
		business string
		t        time.Time
		want     string // "" = none
	}{
		{"R", at(9), ""},
		{"R", at(10), "0.10"},
		{"R", at(10).Add(-time.Nanosecond), ""},
		{"R", at(19), "0.10"},
		{"R", at(20), "0.20"}, // r3 and r4 tie: r4 is larger
		{"R", at(5000), "0.20"},
		{"A", at(0), "0.07"},
		{"X", at(0), ""},
	} {
		got, ok := r.At(tt.business, tt.t)
		if ok != (tt.want != "") || (ok && !got.Equal(dec(tt.want))) {
			t.Errorf("At(%s, %v) = %v %v, want %q", tt.business, tt.t, got, ok, tt.want)
		}
	}
	// Replaying an event replaces it; order of Apply does not matter.
	r.Apply(schemas.Business{EventID: "r4", BusinessID: "R", ReferralRate: dec("0.25"), OccurredAt: at(20)})
	if got, _ := r.At("R", at(20)); !got.Equal(dec("0.25")) || r.Len() != 5 {
		t.Errorf("after replacing r4: %v, %d events", got, r.Len())
	}
}

func TestEnrollmentRejected(t *testing.T) {
	e, _ := New(Config{}, nil)
	var s State
	if r, _ := e.Enrollment(&s, enroll("e1", "A", 1)); r.Owner == nil || r.Rejected {
		t.Fatalf("first enrollment: %+v", r)
	}
	if r, _ := e.Enrollment(&s, enroll("e2", "B", 2)); r.Owner != nil || !r.Rejected {
		t.Fatalf("later enrollment by B: %+v", r)
	}
	if r, _ := e.Enrollment(&s, enroll("e3", "A", 0)); r.Owner == nil || !r.Owner.OwnedSince.Equal(at(0)) || len(r.Commissions) != 0 {
		t.Fatalf("earlier enrollment by the same owner: %+v", r)
	}
	// SPEC §3: an owner enrolling its own client again is not a rejected claim.
	if r, _ := e.Enrollment(&s, enroll("e4", "A", 5)); r.Owner != nil || r.Rejected {
		t.Fatalf("later enrollment by the owner itself: %+v", r)
	}
}

func TestPrune(t *testing.T) {
	e, _ := New(Config{Horizon: 100 * time.Hour}, nil)
	var s State
	e.Enrollment(&s, enroll("e1", "B", 0))
	e.Booking(&s, completed("k1", "b1", "P", "100", "EUR", 1))
	e.Booking(&s, bev("k2", "b2", "P", schemas.StatusCreated, 2))
	e.Booking(&s, completed("k3", "b3", "P", "100", "EUR", 50))
	e.Prune(&s, at(140))
	if s.Bookings() != 1 {
		t.Fatalf("kept %d bookings, want 1", s.Bookings())
	}
	for _, ev := range []schemas.Booking{
		completed("k1", "b1", "P", "100", "EUR", 1), // redelivered after pruning: refused, not double counted
		refunded("k4", "b1", "P", "10", "EUR", 200), // refund of a pruned booking
	} {
		var ie *schemas.InvalidError
		if _, err := e.Booking(&s, ev); !errors.As(err, &ie) {
			t.Errorf("%s: %v", ev.EventID, err)
		}
	}
	if r, err := e.Booking(&s, refunded("k5", "b3", "P", "10", "EUR", 200)); err != nil || len(r.Commissions) != 1 {
		t.Fatalf("refund of a kept booking: %+v %v", r, err)
	}
	e.Prune(&s, at(1000))
	if s.x != nil || s.Empty() {
		t.Fatalf("after pruning everything: x=%v empty=%v", s.x, s.Empty())
	}
	var fresh State
	e.Booking(&fresh, bev("k1", "b1", "P", schemas.StatusCreated, 1))
	e.Prune(&fresh, at(1000))
	if !fresh.Empty() {
		t.Fatal("a client with only pruned bookings is not empty")
	}
}

func TestEventIDPacking(t *testing.T) {
	for _, id := range []string{"", "e1", "0123456789abcdef", "0123456789abcdefg",
		"123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
		"123e4567-E89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400z",
		"123e4567xe89b-12d3-a456-426614174000"} {
		var s State
		s.setOwner("A", 1, id, srcEnrollment)
		if got := s.eventID(); got != id {
			t.Errorf("%q packed and unpacked to %q (kind %d)", id, got, s.evKind)
		}
		if s.cmpEst(1, id) != 0 || s.cmpEst(1, id+"0") != 1 {
			t.Errorf("%q: compare", id)
		}
		b, _ := s.MarshalBinary()
		var u State
		if err := u.UnmarshalBinary(b); err != nil || u.eventID() != id {
			t.Errorf("%q: round trip %q %v", id, u.eventID(), err)
		}
	}
}

// An Engine and its Rates are shared by the runner's goroutines (one per partition) and the
// businesses reader; run with -race.
func TestConcurrentUse(t *testing.T) {
	rates := testRates()
	e, _ := New(Config{}, rates)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			rates.Apply(schemas.Business{EventID: fmt.Sprintf("x%d", i), BusinessID: fmt.Sprintf("N%d", i%7), ReferralRate: dec("0.02"), OccurredAt: at(i)})
		}
	}()
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ {
		go func() {
			var s State
			_, err := e.Enrollment(&s, enroll("e1", fmt.Sprintf("N%d", g), 0))
			for i := 0; i < 200 && err == nil; i++ {
				_, err = e.Booking(&s, completed(fmt.Sprintf("k%d", i), fmt.Sprintf("b%d", i), fmt.Sprintf("P%d", i%5), "10.00", "EUR", i))
			}
			errs <- err
		}()
	}
	for g := 0; g < 2; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	<-done
}
