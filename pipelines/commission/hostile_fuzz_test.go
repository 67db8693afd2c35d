package commission

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// hostile reads decoded-but-hostile event values from fuzz bytes: ids with control bytes or
// of any length, times from year 0001 to 9999, amounts of any scale, unknown statuses and
// currencies, rates outside [0, 1] and with many decimals.
type hostile struct{ b []byte }

func (h *hostile) u64() uint64 {
	if len(h.b) < 8 {
		var pad [8]byte
		copy(pad[:], h.b)
		h.b = nil
		return binary.LittleEndian.Uint64(pad[:])
	}
	v := binary.LittleEndian.Uint64(h.b)
	h.b = h.b[8:]
	return v
}

func (h *hostile) id() string {
	switch v := h.u64(); v % 8 {
	case 0:
		return ""
	case 1:
		return strings.Repeat("x", int(v>>3)%2000)
	case 2:
		return "a\x00b"
	case 3:
		return "a\r\nb\x1b"
	case 4:
		return string([]byte{0xff, 0xfe})
	default:
		return []string{"c1", "c2", "A", "B", "P"}[v>>3%5]
	}
}

func (h *hostile) time() time.Time {
	switch v := h.u64(); v % 6 {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	case 2:
		return time.Unix(int64(v>>3)%(300*365*86400)-100*365*86400, int64(v%1e9)).UTC()
	case 3:
		return schemas.DefaultMaxTime
	default:
		return at(int(v>>3) % 20000)
	}
}

func (h *hostile) dec() decimal.Decimal {
	v := h.u64()
	return decimal.New(int64(h.u64()), -int32(v%40)+int32(v>>8%20))
}

func (h *hostile) event() any {
	if h.u64()%3 == 0 {
		return schemas.Enrollment{EventID: h.id(), ClientID: h.id(), BusinessID: h.id(), OccurredAt: h.time()}
	}
	cur := []string{"EUR", "JPY", "BHD", "XXX", ""}[h.u64()%5]
	return schemas.Booking{EventID: h.id(), BookingID: h.id(), ClientID: h.id(), BusinessID: h.id(),
		Status: schemas.Status(h.u64() % 8), Amount: h.dec(), Currency: cur, RefundAmount: h.dec(), OccurredAt: h.time()}
}

// FuzzEngineHostile feeds the rules engine decoded-but-hostile values: it must never panic,
// an event it refuses must leave the state as it was, and nothing out of bounds may reach a
// commission, an owner or the rates in force.
//
//	go test -run='^$' -fuzz=FuzzEngineHostile -fuzztime=60s ./pipelines/commission/
func FuzzEngineHostile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Add(make([]byte, 400))
	bounds := schemas.Bounds{}.WithDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &hostile{b: data}
		rates := NewRates()
		for range 3 {
			_ = rates.Apply(schemas.Business{EventID: h.id(), BusinessID: h.id(), Name: "n", Sector: "s", ReferralRate: h.dec(), OccurredAt: h.time()})
		}
		for _, b := range []string{"A", "B", "P"} {
			for _, tm := range []time.Time{schemas.DefaultMinTime, at(0), schemas.DefaultMaxTime.Add(-1)} {
				if r, ok := rates.At(b, tm); ok && (r.Sign() < 0 || r.GreaterThan(decimal.NewFromInt(1)) || !r.Equal(r.Truncate(6))) {
					t.Fatalf("rate in force %s for %s", r, b)
				}
			}
		}
		e, err := New(Config{}, rates)
		if err != nil {
			t.Fatal(err)
		}
		var s State
		for n := 0; len(h.b) > 0 && n < 64; n++ {
			ev := h.event()
			before, _ := s.MarshalBinary()
			res, err := apply(e, &s, ev)
			if err != nil {
				if after, _ := s.MarshalBinary(); string(after) != string(before) {
					t.Fatalf("refused %+v changed the state", ev)
				}
				continue
			}
			if res.Owner != nil && (res.Owner.OwnedSince.Before(bounds.MinTime) || !res.Owner.OwnedSince.Before(bounds.MaxTime)) {
				t.Fatalf("owner since %s", res.Owner.OwnedSince)
			}
			for _, c := range res.Commissions {
				minor, ok := schemas.MinorUnit(c.Currency)
				if !ok || !c.Amount.Equal(c.Amount.Truncate(minor)) || c.Amount.Abs().GreaterThan(decimal.NewFromInt(bounds.MaxUnits)) {
					t.Fatalf("commission amount %s %s", c.Amount, c.Currency)
				}
				if c.OccurredAt.Before(bounds.MinTime) || !c.OccurredAt.Before(bounds.MaxTime) || c.PayableAt.Before(c.OccurredAt.Add(-DefaultHold-DefaultHorizon)) ||
					c.PayableAt.After(bounds.MaxTime.Add(DefaultHold)) {
					t.Fatalf("commission times %s %s", c.OccurredAt, c.PayableAt)
				}
				for _, id := range []string{c.OwnerBusinessID, c.ClientID, c.BookingID, c.SourceEventID} {
					if id == "" || len(id) > bounds.MaxIDBytes || strings.ContainsAny(id, "\x00\r\n\x1b") {
						t.Fatalf("commission id %q", id)
					}
				}
			}
		}
		data2, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := back.UnmarshalBinary(data2); err != nil {
			t.Fatalf("state does not round-trip: %v", err)
		}
	})
}
