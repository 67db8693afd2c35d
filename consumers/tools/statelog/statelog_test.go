package statelog

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// states builds, through the commission engine, an owner-only client and a client with an
// owner and bookings (completed, refunded), the two shapes a ledger changelog holds.
func states(t *testing.T) (*commission.Engine, []*commission.State) {
	t.Helper()
	eng, err := commission.New(commission.Config{}, commission.NewRates())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	owner := new(commission.State)
	if _, err := eng.Enrollment(owner, schemas.Enrollment{EventID: "en-1", ClientID: "c-1", BusinessID: "biz-1",
		Source: "invite", OccurredAt: at}); err != nil {
		t.Fatal(err)
	}
	busy := new(commission.State)
	if _, err := eng.Enrollment(busy, schemas.Enrollment{EventID: "en-2", ClientID: "c-2", BusinessID: "biz-1",
		Source: "invite", OccurredAt: at}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id := "bk-" + strconv.Itoa(i)
		evs := []schemas.Booking{
			{EventID: id + "-c", BookingID: id, ClientID: "c-2", BusinessID: "biz-2", Status: schemas.StatusCreated,
				OccurredAt: at.Add(time.Duration(i+1) * time.Hour)},
			{EventID: id + "-d", BookingID: id, ClientID: "c-2", BusinessID: "biz-2", Status: schemas.StatusCompleted,
				Amount: decimal.RequireFromString("120.50"), Currency: "EUR", OccurredAt: at.Add(time.Duration(i+2) * time.Hour)},
		}
		for _, ev := range evs {
			if _, err := eng.Booking(busy, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if busy.Bookings() != 3 {
		t.Fatalf("busy client keeps %d bookings; want 3", busy.Bookings())
	}
	return eng, []*commission.State{owner, busy}
}

// TestRecordRoundTrip encodes each shape of state as Generate writes it and decodes the record
// the way the ledger restores it: the key through stream.StateKey, the value through the
// engine's UnmarshalState. The decoded state is the original (owner, bookings, and the same
// encoding), and the record lies in the partition of its client id.
func TestRecordRoundTrip(t *testing.T) {
	eng, ss := states(t)
	codec, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ss {
		enc, err := s.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		value, err := codec.Reencode(nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(value, enc) {
			t.Fatalf("state %d: Reencode changed the encoding (%d → %d bytes)", i, len(enc), len(value))
		}
		id := ClientID(i, 10_000_000)
		r := Record("x.taskole.ledger-state.v1", id, value, 12)
		key, ok := stream.StateKey(r.Key)
		if !ok || key != id {
			t.Fatalf("state %d: key %q decodes to %q, %v; want %q", i, r.Key, key, ok, id)
		}
		if want := stream.KeyPartition([]byte(id), 12); r.Partition != want {
			t.Errorf("state %d: partition %d; want %d (the client id's)", i, r.Partition, want)
		}
		var got commission.State
		if err := eng.UnmarshalState(&got, r.Value); err != nil {
			t.Fatalf("state %d: decoding: %v", i, err)
		}
		wo, _ := s.Owner()
		dec, ok := got.Owner()
		if !ok || dec != wo || got.Bookings() != s.Bookings() {
			t.Errorf("state %d: decoded owner %+v (%v), %d bookings; want %+v, %d", i, dec, ok, got.Bookings(), wo, s.Bookings())
		}
		again, _ := got.AppendBinary(nil)
		if !bytes.Equal(again, enc) {
			t.Errorf("state %d: the decoded state encodes differently", i)
		}
	}
}

// TestReencodeRefuses checks that a value the ledger could not restore, or would not keep, is
// refused rather than copied into a synthetic changelog.
func TestReencodeRefuses(t *testing.T) {
	codec, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := (&commission.State{}).AppendBinary(nil)
	for _, v := range [][]byte{{0xff, 0x01, 0x02}, empty} {
		if _, err := codec.Reencode(nil, v); err == nil {
			t.Errorf("Reencode(%x) = nil error", v)
		}
	}
}

// TestClientID checks that synthetic ids are distinct and of one width at a scale.
func TestClientID(t *testing.T) {
	if got := ClientID(7, 1_000_000); got != "cs-000007" {
		t.Errorf("ClientID(7, 1M) = %q; want cs-000007", got)
	}
	if got := ClientID(9_999_999, 10_000_000); got != "cs-9999999" {
		t.Errorf("ClientID(9999999, 10M) = %q", got)
	}
	seen := map[string]bool{}
	for i := range 1000 {
		id := ClientID(i, 1000)
		if seen[id] || len(id) != len("cs-000") {
			t.Fatalf("ClientID(%d, 1000) = %q: duplicate or of another width", i, id)
		}
		seen[id] = true
	}
}
