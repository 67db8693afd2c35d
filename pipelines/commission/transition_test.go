package commission

import (
	"errors"
	"fmt"
	"testing"

	"github.com/taskole/revshare/schemas"
)

// TestTransitionTable pins every (status so far, next status) pair of the booking lifecycle
// (SPEC "Booking lifecycle"): forward only, any step may be skipped, a booking may start at
// any status but refunded, refunded may repeat, cancelled follows created, confirmed or
// completed, nothing follows cancelled. "" is allowed, anything else the refusing label.
func TestTransitionTable(t *testing.T) {
	const (
		unknown   = schemas.StatusUnknown
		created   = schemas.StatusCreated
		confirmed = schemas.StatusConfirmed
		completed = schemas.StatusCompleted
		cancelled = schemas.StatusCancelled
		refunded  = schemas.StatusRefunded
	)
	table := []struct {
		prev, next schemas.Status
		want       string
	}{
		{unknown, created, ""},
		{unknown, confirmed, ""},
		{unknown, completed, ""},
		{unknown, cancelled, ""},
		{unknown, refunded, schemas.LabelRefundNotCompleted},

		{created, created, schemas.LabelInvalidTransition},
		{created, confirmed, ""},
		{created, completed, ""}, // confirmed skipped: an instant booking
		{created, cancelled, ""},
		{created, refunded, schemas.LabelRefundNotCompleted},

		{confirmed, created, schemas.LabelInvalidTransition},
		{confirmed, confirmed, schemas.LabelInvalidTransition},
		{confirmed, completed, ""},
		{confirmed, cancelled, ""},
		{confirmed, refunded, schemas.LabelRefundNotCompleted},

		{completed, created, schemas.LabelInvalidTransition},
		{completed, confirmed, schemas.LabelInvalidTransition},
		{completed, completed, schemas.LabelInvalidTransition},
		{completed, cancelled, ""},
		{completed, refunded, ""},

		{refunded, created, schemas.LabelInvalidTransition},
		{refunded, confirmed, schemas.LabelInvalidTransition},
		{refunded, completed, schemas.LabelInvalidTransition},
		{refunded, cancelled, schemas.LabelInvalidTransition},
		{refunded, refunded, ""},

		{cancelled, created, schemas.LabelAfterCancelled},
		{cancelled, confirmed, schemas.LabelAfterCancelled},
		{cancelled, completed, schemas.LabelAfterCancelled},
		{cancelled, cancelled, schemas.LabelAfterCancelled},
		{cancelled, refunded, schemas.LabelAfterCancelled},
	}
	seen := map[[2]schemas.Status]bool{}
	for _, tc := range table {
		seen[[2]schemas.Status{tc.prev, tc.next}] = true
	}
	for _, p := range []schemas.Status{unknown, created, confirmed, completed, cancelled, refunded} {
		for _, n := range []schemas.Status{created, confirmed, completed, cancelled, refunded} {
			if !seen[[2]schemas.Status{p, n}] {
				t.Errorf("pair %s → %s missing from the table", statusName(p), statusName(n))
			}
		}
	}
	for _, tc := range table {
		t.Run(statusName(tc.prev)+"→"+statusName(tc.next), func(t *testing.T) {
			got := labelOf(transition(tc.prev, schemas.Booking{BookingID: "b1", EventID: "k", Status: tc.next}))
			if got != tc.want {
				t.Fatalf("transition: got %q, want %q", got, tc.want)
			}
			// The same pair through the engine: reach prev with events, then apply next.
			e, err := New(Config{}, NewRates())
			if err != nil {
				t.Fatal(err)
			}
			var s State
			h := 0
			ev := func(st schemas.Status) schemas.Booking {
				h++
				b := bev(fmt.Sprintf("k%d", h), "b1", "P", st, h)
				b.ClientID = "c1"
				switch st {
				case completed:
					b.Amount, b.Currency = dec("10.00"), "EUR"
				case refunded:
					b.RefundAmount = dec("1.00")
				}
				return b
			}
			var path []schemas.Status
			switch tc.prev {
			case refunded:
				path = []schemas.Status{completed, refunded}
			case unknown:
			default:
				path = []schemas.Status{tc.prev}
			}
			for _, st := range path {
				if _, err := e.Booking(&s, ev(st)); err != nil {
					t.Fatalf("reaching %s: %v", statusName(tc.prev), err)
				}
			}
			before := s.Bookings()
			_, err = e.Booking(&s, ev(tc.next))
			if got := labelOf(err); got != tc.want {
				t.Fatalf("engine: got %q (%v), want %q", got, err, tc.want)
			}
			if tc.want != "" && s.Bookings() != before {
				t.Fatalf("refused event changed the state: %d bookings, had %d", s.Bookings(), before)
			}
		})
	}
}

func labelOf(err error) string {
	if err == nil {
		return ""
	}
	var ie *schemas.InvalidError
	if !errors.As(err, &ie) {
		return "not invalid: " + err.Error()
	}
	return ie.Label()
}
