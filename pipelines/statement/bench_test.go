package statement

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

// benchEntries returns n accruals of one owner, 1000 payable per month, ids in random order.
func benchEntries(n int) []schemas.Commission {
	out := make([]schemas.Commission, n)
	for i := range out {
		p := month(i / 1000).Add(time.Duration(i%1000) * 40 * time.Minute)
		out[i] = schemas.Commission{CommissionID: fmt.Sprintf("%016x", uint64(i)*0x9E3779B97F4A7C15),
			Kind: schemas.Accrual, OwnerBusinessID: "owner", Currency: "EUR",
			Amount: decimal.New(int64(100+i%5000), -2), OccurredAt: p, PayableAt: p}
	}
	return out
}

// BenchmarkAddAdvance books entries the way the runner does (Advance, then Add) and closes
// a month every 1000 entries: the cost per ledger entry, statements included.
func BenchmarkAddAdvance(b *testing.B) {
	e, _ := New(Config{})
	es := benchEntries(24000)
	b.ReportAllocs()
	b.ResetTimer()
	var s State
	var out []schemas.Payout
	for i := 0; i < b.N; i++ {
		k := i % len(es)
		if k == 0 {
			s = State{}
		}
		out = e.Advance(out[:0], &s, es[k].OccurredAt)
		if _, err := e.Add(&s, es[k]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClose closes a month of 1000 open entries into one statement.
func BenchmarkClose(b *testing.B) {
	e, _ := New(Config{})
	es := benchEntries(1000)
	var proto State
	for _, c := range es {
		e.Add(&proto, c)
	}
	data, _ := proto.MarshalBinary()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var s State
		s.UnmarshalBinary(data)
		b.StartTimer()
		if out := e.Advance(nil, &s, month(2)); len(out) != 1 {
			b.Fatalf("%d statements", len(out))
		}
	}
}

func benchState(b *testing.B) State {
	e, _ := New(Config{})
	var s State
	for _, c := range benchEntries(1000) {
		e.Add(&s, c)
	}
	return s
}

// BenchmarkMarshal encodes an owner with 1000 open entries (the changelog write).
func BenchmarkMarshal(b *testing.B) {
	s := benchState(b)
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = s.AppendBinary(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkUnmarshal decodes it (the restore).
func BenchmarkUnmarshal(b *testing.B) {
	s := benchState(b)
	data, _ := s.MarshalBinary()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var r State
		if err := r.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
