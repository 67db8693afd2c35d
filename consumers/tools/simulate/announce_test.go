package simulate

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/schemas"
)

// TestRateChangesPrecedeTheirBookings: SPEC R2 says a rate change is announced no later than
// it takes effect. In the generator's order and in event order (the demo's --event-order),
// every rate change is emitted before every completed booking at or after its occurred_at,
// so a producer that sends in this order (Produce flushes after businesses events) never
// writes a booking before the rate it is judged with.
func TestRateChangesPrecedeTheirBookings(t *testing.T) {
	cfg := Config{Seed: 11, Businesses: 60, Clients: 1500}
	for _, eventOrder := range []bool{false, true} {
		var all []Event
		generate(t, cfg, func(e Event) {
			e.Key, e.Value = bytes.Clone(e.Key), bytes.Clone(e.Value)
			all = append(all, e)
		})
		if eventOrder {
			SortByEventTime(all)
		}
		var changes []int64 // occurred_at of every rate change, sorted
		for _, e := range all {
			if b, ok := rateChange(e); ok {
				changes = append(changes, b.OccurredAt.UnixNano())
			}
		}
		slices.Sort(changes)
		if len(changes) == 0 {
			t.Fatal("the world has no rate changes: nothing checked")
		}
		var seen []int64
		checked := 0
		for i, e := range all {
			if b, ok := rateChange(e); ok {
				at := b.OccurredAt.UnixNano()
				j, _ := slices.BinarySearch(seen, at)
				seen = slices.Insert(seen, j, at)
				continue
			}
			if e.Topic != schemas.TopicBookings || e.Malformed != "" {
				continue
			}
			bk, err := schemas.DecodeBooking(e.Value)
			if err != nil || bk.Status != schemas.StatusCompleted {
				continue
			}
			checked++
			t0 := bk.OccurredAt.UnixNano()
			due, _ := slices.BinarySearch(changes, t0+1)
			have, _ := slices.BinarySearch(seen, t0+1)
			if have < due {
				t.Fatalf("event order %v: booking %s completed %s (event %d) is emitted before %d rate change(s) in force at its time",
					eventOrder, bk.BookingID, bk.OccurredAt.Format(time.RFC3339), i, due-have)
			}
		}
		if checked == 0 {
			t.Fatal("no completed booking checked")
		}
	}
}

// rateChange decodes e when it is a rate change (a businesses event after the first of its
// business, event id suffix "-1").
func rateChange(e Event) (schemas.Business, bool) {
	if e.Topic != schemas.TopicBusinesses || e.Malformed != "" {
		return schemas.Business{}, false
	}
	b, err := schemas.DecodeBusiness(e.Value)
	if err != nil || !strings.HasSuffix(b.EventID, "-1") {
		return schemas.Business{}, false
	}
	return b, true
}
