package schemas

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBoundsDecode pins the bounds of SPEC R8 at the decoders, boundary values included.
func TestBoundsDecode(t *testing.T) {
	booking := func(field, value string) []byte {
		f := map[string]string{
			"event_id": `"e1"`, "booking_id": `"b1"`, "client_id": `"c1"`, "business_id": `"p1"`,
			"status": `"completed"`, "amount": `"10.00"`, "currency": `"EUR"`, "occurred_at": `"2025-01-01T00:00:00Z"`,
		}
		f[field] = value
		var b strings.Builder
		b.WriteString("{")
		first := true
		for _, k := range []string{"event_id", "booking_id", "client_id", "business_id", "status", "amount", "currency", "occurred_at"} {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":` + f[k])
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	tests := []struct {
		field, value string
		label        string // "" accepted
	}{
		{"occurred_at", `"1970-01-01T00:00:00Z"`, ""},
		{"occurred_at", `"2199-12-31T23:59:59.999999999Z"`, ""},
		{"occurred_at", `"2200-01-01T00:00:00Z"`, "occurred_at:range"},
		{"occurred_at", `"2200-01-01T01:00:00+01:00"`, "occurred_at:range"},
		{"occurred_at", `"1969-12-31T23:59:59Z"`, "occurred_at:range"},
		{"occurred_at", `"0001-01-01T00:00:00Z"`, "occurred_at:range"},
		{"occurred_at", `"9999-12-31T23:59:59Z"`, "occurred_at:range"},
		{"amount", `"1000000000000"`, ""},
		{"amount", `"1000000000000.00"`, ""},
		{"amount", `"999999999999.99"`, ""},
		{"amount", `"1000000000000.01"`, "amount:range"},
		{"amount", `"10000000000000000000000000000000000000"`, "amount:range"},
		{"amount", `"10.001"`, "amount:invalid"},
		{"event_id", `"` + strings.Repeat("a", 256) + `"`, ""},
		{"event_id", `"` + strings.Repeat("é", 128) + `"`, ""},
		{"event_id", `"` + strings.Repeat("a", 257) + `"`, "event_id:invalid"},
		{"client_id", `"` + strings.Repeat("x", 100_000) + `"`, "client_id:invalid"},
		{"client_id", `"a\u0000b"`, "client_id:invalid"},
		{"client_id", `"a\r\nb"`, "client_id:invalid"},
		{"client_id", `"a\u001bb"`, "client_id:invalid"},
		{"client_id", `"a\u007fb"`, "client_id:invalid"},
		{"client_id", `"a\u0085b"`, "client_id:invalid"},
		{"business_id", `"ü-ok"`, ""},
		{"business_id", `" !~ ok"`, ""}, // the ends of printable ASCII (idReason's fast path)
		{"business_id", `"ok\u0085"`, "business_id:invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.value[:min(len(tt.value), 40)], func(t *testing.T) {
			_, err := DecodeBooking(booking(tt.field, tt.value))
			if tt.label == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *InvalidError
			if !errors.As(err, &fe) || fe.Label() != tt.label {
				t.Fatalf("error %v, want label %s", err, tt.label)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error of %d bytes quotes too much: %.200s", len(err.Error()), err)
			}
		})
	}
}

// TestBoundsZeroTime: the zero time is out of range, not missing (it was "required" before).
func TestBoundsZeroTime(t *testing.T) {
	err := Bounds{}.CheckBooking(Booking{EventID: "e", BookingID: "b", ClientID: "c", BusinessID: "p", Status: StatusCreated})
	var fe *InvalidError
	if !errors.As(err, &fe) || fe.Label() != "occurred_at:range" {
		t.Fatalf("error %v, want occurred_at:range", err)
	}
}

// TestBoundsConfigured: bounds are per deployment; Validate refuses ranges that could wrap.
func TestBoundsConfigured(t *testing.T) {
	b := Bounds{MaxTime: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), MaxUnits: 1000, MaxIDBytes: 8, RatePlaces: 2}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"event_id":"e","business_id":"b","name":"n","sector":"s","referral_rate":"0.055","occurred_at":"2024-05-01T00:00:00Z"}`)
	if _, err := b.DecodeBusiness(in); err == nil {
		t.Error("3-decimal rate accepted with RatePlaces 2")
	}
	if _, err := DecodeBusiness(in); err != nil {
		t.Errorf("default bounds refuse a 3-decimal rate: %v", err)
	}
	en := []byte(`{"event_id":"e","client_id":"c","business_id":"b","occurred_at":"2150-01-01T00:00:00Z"}`)
	if _, err := b.DecodeEnrollment(en); err == nil {
		t.Error("2150 accepted with MaxTime 2100")
	}
	for _, bad := range []Bounds{
		{MaxTime: time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)},
		{MinTime: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)},
		{MinTime: DefaultMaxTime},
		{MaxUnits: -1},
		{MaxUnits: 1e15},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate accepts %+v", bad)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote([]byte("abc")); got != `"abc"` {
		t.Errorf("Quote = %s", got)
	}
	long := Quote([]byte(strings.Repeat("k", 100_000)))
	if len(long) > 100 || !strings.HasSuffix(long, "…(100000 bytes)") {
		t.Errorf("Quote of 100 kB = %s", long)
	}
}
