package simulate

import "testing"

// TestDayOf: the simulated day of an event is its occurred_at's UTC day; an unreadable
// occurred_at has none.
func TestDayOf(t *testing.T) {
	for _, tc := range []struct {
		value string
		day   int64
		ok    bool
	}{
		{`{"occurred_at":"1970-01-02T00:00:00Z"}`, 1, true},
		{`{"occurred_at":"1970-01-02T23:59:59.999Z"}`, 1, true},
		{`{"occurred_at":"2025-03-01T10:00:00+02:00"}`, 20148, true},
		{`{"occurred_at":"2025-03-01T01:00:00+02:00"}`, 20147, true},
		{`{"occurred_at":"garbage"}`, 0, false},
		{`not json`, 0, false},
		{`{}`, 0, false},
	} {
		day, ok := dayOf(Event{Value: []byte(tc.value)})
		if day != tc.day || ok != tc.ok {
			t.Errorf("dayOf(%s) = %d, %v; want %d, %v", tc.value, day, ok, tc.day, tc.ok)
		}
	}
}
