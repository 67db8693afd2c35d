package commission

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// TestRatesAsOf: a lookup as of an instant sees only the events announced at or before it;
// among those, the latest occurred_at at or before the booking time wins (ties: larger
// event_id); a redelivery keeps its first announcement; Apply counts as always announced.
func TestRatesAsOf(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	biz := func(id, rate string, occurred int) schemas.Business {
		return schemas.Business{EventID: id, BusinessID: "B", Name: "n", Sector: "s",
			ReferralRate: decimal.RequireFromString(rate), OccurredAt: day(occurred)}
	}
	r := NewRates()
	for _, a := range []struct {
		b         schemas.Business
		announced int // day; 0: Apply
	}{
		{biz("e1", "0.10", 1), 1},
		{biz("e2", "0.20", 5), 4},  // announced ahead of its effect
		{biz("e3", "0.30", 3), 10}, // retroactive: dated day 3, announced day 10
		{biz("e4", "0.40", 5), 6},  // same time as e2, larger event id, announced later
		{biz("e2", "0.20", 5), 20}, // a redelivery of e2: still announced on day 4
		{biz("e5", "0.50", 25), 0}, // applied without an announcement: always visible
	} {
		var err error
		if a.announced == 0 {
			err = r.Apply(a.b)
		} else {
			err = r.ApplyAnnounced(a.b, day(a.announced))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name     string
		at, asOf int
		want     string // "": none in force
	}{
		{"nothing announced yet", 2, 0, ""},
		{"first rate", 2, 1, "0.10"},
		{"announced, not yet in force", 4, 4, "0.10"},
		{"in force once announced", 5, 4, "0.20"},
		{"redelivery does not delay e2", 5, 5, "0.20"},
		{"tie on time: larger event id once announced", 5, 6, "0.40"},
		{"retroactive e3 unseen before its announcement", 3, 9, "0.10"},
		{"retroactive e3 seen after it", 3, 10, "0.30"},
		{"later events still win over e3", 6, 10, "0.40"},
		{"Apply is always visible", 26, 0, "0.50"},
		{"At sees everything", 3, -1, "0.30"},
	} {
		var got decimal.Decimal
		var ok bool
		if c.asOf < 0 {
			got, ok = r.At("B", day(c.at))
		} else {
			got, ok = r.AtAsOf("B", day(c.at), day(c.asOf)) // day 0: February 28, before every announcement
		}
		switch {
		case c.want == "" && ok:
			t.Errorf("%s: got %s, want none", c.name, got)
		case c.want != "" && (!ok || !got.Equal(decimal.RequireFromString(c.want))):
			t.Errorf("%s: got %s (%v), want %s", c.name, got, ok, c.want)
		}
	}
}

// TestCorrectionJudgesAsOfTheBooking: a booking is judged with the rates announced by its own
// completion's announcement, whichever record judges it: the same rate whether the owner's
// enrollment is handled before the booking or after it (an ownership correction), and a rate
// announced after the booking never counts.
func TestCorrectionJudgesAsOfTheBooking(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	rates := NewRates()
	for _, a := range []struct {
		id, rate            string
		occurred, announced int
	}{{"x1", "0.10", 1, 1}, {"x2", "0.20", 2, 5}} {
		if err := rates.ApplyAnnounced(schemas.Business{EventID: a.id, BusinessID: "X", Name: "n", Sector: "s",
			ReferralRate: decimal.RequireFromString(a.rate), OccurredAt: day(a.occurred)}, day(a.announced)); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(Config{}, rates)
	if err != nil {
		t.Fatal(err)
	}
	enr := schemas.Enrollment{EventID: "en", ClientID: "c", BusinessID: "X", Source: "invite", OccurredAt: day(1)}
	bk := schemas.Booking{EventID: "bk-c", BookingID: "bk", ClientID: "c", BusinessID: "P", Status: schemas.StatusCompleted,
		Amount: decimal.RequireFromString("100.00"), Currency: "EUR", OccurredAt: day(3)}
	for _, enrollFirst := range []bool{true, false} {
		var s State
		var entries []schemas.Commission
		steps := []func() (Result, error){
			func() (Result, error) { return eng.AppendEnrollment(nil, &s, enr) },
			func() (Result, error) { return eng.AppendBookingAsOf(nil, &s, bk, day(3)) },
		}
		if !enrollFirst {
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, step := range steps {
			res, err := step()
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, res.Commissions...)
		}
		net := decimal.Zero
		for _, c := range entries {
			if c.OwnerBusinessID == "X" {
				net = net.Add(c.Amount)
				if !c.Rate.Equal(decimal.RequireFromString("0.10")) {
					t.Errorf("enrollment first %v: entry %s at rate %s, want 0.10 (0.20 was announced after the booking)", enrollFirst, c.Reason, c.Rate)
				}
			}
		}
		if !net.Equal(decimal.RequireFromString("10.00")) {
			t.Errorf("enrollment first %v: X nets %s, want 10.00", enrollFirst, net)
		}
	}
}

// TestStateVersion1: a version-1 changelog value (no announcement per booking) still reads,
// its bookings counting as announced after every rate (the behaviour before announcements).
func TestStateVersion1(t *testing.T) {
	eng, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if _, err := eng.Enrollment(&s, schemas.Enrollment{EventID: "en", ClientID: "c", BusinessID: "X", Source: "invite",
		OccurredAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Booking(&s, schemas.Booking{EventID: "bk-c", BookingID: "bk", ClientID: "c", BusinessID: "P",
		Status: schemas.StatusCompleted, Amount: decimal.RequireFromString("100.00"), Currency: "EUR",
		OccurredAt: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	v2, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Booking (no announcement) wrote announced = MaxInt64; version 1 is the same bytes without it.
	unknown := binary.AppendVarint(nil, math.MaxInt64)
	i := bytes.Index(v2, unknown)
	if v2[0] != stateVersion || i < 0 {
		t.Fatalf("version-2 encoding %x: no announcement field found", v2)
	}
	v1 := append(append([]byte{stateVersionV1}, v2[1:i]...), v2[i+len(unknown):]...)
	var back State
	if err := back.UnmarshalBinary(v1); err != nil {
		t.Fatalf("reading version 1: %v", err)
	}
	if again, _ := back.MarshalBinary(); !bytes.Equal(again, v2) {
		t.Fatalf("version 1 read back as %x, want %x", again, v2)
	}
}
