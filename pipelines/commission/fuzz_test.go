package commission

import (
	"testing"

	"github.com/taskole/revshare/schemas"
)

func FuzzUnmarshalBinary(f *testing.F) {
	e, _ := New(Config{}, testRates())
	var s State
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0})
	add := func() {
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	add()
	e.Enrollment(&s, enroll("123e4567-e89b-12d3-a456-426614174000", "A", 0))
	add()
	e.Booking(&s, bev("k0", "b0", "P", schemas.StatusCreated, 1))
	e.Booking(&s, completed("k1", "b1", "P", "100.00", "EUR", 2))
	e.Booking(&s, refunded("k2", "b1", "P", "10.00", "EUR", 3))
	e.Booking(&s, completed("k3", "b2", "A", "5", "JPY", 4))
	e.Booking(&s, cancelled("k4", "b3", "P", 5))
	add()
	e.Enrollment(&s, enroll("a-very-long-enrollment-event-id", "B", -1))
	e.Prune(&s, at(24*400+3))
	add()
	f.Fuzz(func(t *testing.T, data []byte) {
		var u State
		if err := u.UnmarshalBinary(data); err != nil {
			return
		}
		m1, err := u.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var u2 State
		if err := e.UnmarshalState(&u2, m1); err != nil {
			t.Fatalf("re-decoding %x: %v", m1, err)
		}
		if m2, _ := u2.MarshalBinary(); string(m2) != string(m1) {
			t.Fatalf("round trip differs:\n%x\n%x", m1, m2)
		}
		// The rules must not panic on any decodable state.
		u.Owner()
		u.Empty()
		e.Booking(&u, refunded("f1", "b1", "P", "1.00", "EUR", 10))
		e.Booking(&u, completed("f2", "b9", "Q", "1.00", "EUR", 10))
		e.Enrollment(&u, enroll("f3", "Z", -100))
		e.Prune(&u, at(24*500))
	})
}
