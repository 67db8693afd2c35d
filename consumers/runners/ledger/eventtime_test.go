package ledger

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

func TestEventTime(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 120000000, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Time
		ok    bool
	}{
		{`{"event_id":"e1","occurred_at":"2025-03-01T10:00:00.12Z"}`, at, true},
		{`{"occurred_at" : "2025-03-01T12:00:00.12+02:00","event_id":"e1"}`, at, true},
		{`{"source":"\"occurred_at\"","occurred_at":"2025-03-01T10:00:00.12Z"}`, at, true},
		{`{"event_id":"e1"}`, time.Time{}, false},
		{`{"occurred_at":12}`, time.Time{}, false},
		{`{"occurred_at":"yesterday"}`, time.Time{}, false},
		{`{"occurred_at":"2025-03-01T10:00:00Z`, time.Time{}, false},
		{`not json`, time.Time{}, false},
	} {
		got, ok := eventTime(&kgo.Record{Value: []byte(tc.value)})
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: got %v %v, want %v %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzEventTime: whenever the ledger's decoders accept a value, eventTime reads the same
// occurred_at from it; it never panics.
func FuzzEventTime(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","client_id":"c1","business_id":"b1","source":"invite","occurred_at":"2025-03-01T10:00:00Z"}`))
	f.Add([]byte(`{"event_id":"k1","booking_id":"bk1","client_id":"c1","business_id":"b2","status":"completed","amount":"10.00","currency":"EUR","occurred_at":"2025-03-01T10:00:00.5+01:00"}`))
	f.Add([]byte(`{"occurred_at":"2025-03-01T10:00:00Z","occurred_at":"2026-03-01T10:00:00Z"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := eventTime(&kgo.Record{Value: v})
		if e, err := schemas.DecodeEnrollment(v); err == nil && (!ok || !got.Equal(e.OccurredAt)) {
			t.Errorf("enrollment %q: eventTime %v %v, decoder %v", v, got, ok, e.OccurredAt)
		}
		if b, err := schemas.DecodeBooking(v); err == nil && (!ok || !got.Equal(b.OccurredAt)) {
			t.Errorf("booking %q: eventTime %v %v, decoder %v", v, got, ok, b.OccurredAt)
		}
	})
}
