package commission

import (
	"fmt"
	"math"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

func uuidLike(i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", i*2654435761&0xffffffff, i&0xffff, i&0xfff, (i>>12)&0xfff, i*97)
}

// cpuTime is the process's user+system CPU time (all threads, GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports ops per wall second and per CPU second (the machine is shared: the CPU
// figure is the per-core throughput).
func reportRate(b *testing.B, unit string, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), unit+"/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), unit+"/cpu-s")
}

func benchEngine(b testing.TB) *Engine {
	rates := NewRates()
	for i := 0; i < 1000; i++ {
		rates.Apply(schemas.Business{EventID: fmt.Sprintf("r%d", i), BusinessID: fmt.Sprintf("biz-%d", i),
			ReferralRate: decimal.New(int64(1+i%300), -3), OccurredAt: t0.Add(-time.Duration(i) * time.Hour)})
	}
	e, err := New(Config{}, rates)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchBookings are completed bookings of an owned client at providers other than the owner.
func benchBookings(n int) []schemas.Booking {
	evs := make([]schemas.Booking, n)
	for i := range evs {
		evs[i] = schemas.Booking{
			EventID: uuidLike(i), BookingID: uuidLike(i + 1<<30), ClientID: "client-1",
			BusinessID: fmt.Sprintf("biz-%d", 1+i%999), Status: schemas.StatusCompleted,
			Amount: decimal.New(int64(1000+i%50000), -2), Currency: "EUR", OccurredAt: at(i % 5000),
		}
	}
	return evs
}

func ownedState(b testing.TB, e *Engine) State {
	var s State
	if _, err := e.Enrollment(&s, schemas.Enrollment{EventID: "enr-1", ClientID: "client-1", BusinessID: "biz-0", OccurredAt: at(-10000)}); err != nil {
		b.Fatal(err)
	}
	if s.x != nil {
		b.Fatal("owner-only state has extra data: copies would share it")
	}
	return s
}

// commissionPath is the setup of the BenchmarkCommissionPath variants: the engine, 4096
// completed bookings and the owner-only state each op starts from; the timers start after it.
func commissionPath(b *testing.B) (e *Engine, evs []schemas.Booking, base State, start time.Time, cpu0 time.Duration) {
	e = benchEngine(b)
	evs = benchBookings(4096)
	base = ownedState(b, e)
	b.ReportAllocs()
	b.ResetTimer()
	return e, evs, base, time.Now(), cpuTime()
}

// BenchmarkCommissionPath: a completed booking of a client owned elsewhere, through
// Engine.Booking (accrual, commission id, stored booking). Each op starts from the owner-only state.
func BenchmarkCommissionPath(b *testing.B) {
	e, evs, base, start, cpu0 := commissionPath(b)
	for i := 0; i < b.N; i++ {
		s := base
		res, err := e.Booking(&s, evs[i%len(evs)])
		if err != nil || len(res.Commissions) != 1 {
			b.Fatal(err, res)
		}
	}
	reportRate(b, "bookings", start, cpu0)
}

// BenchmarkCommissionPathAppend is the allocation-lean variant: AppendBooking into a reused slice.
func BenchmarkCommissionPathAppend(b *testing.B) {
	var dst []schemas.Commission
	e, evs, base, start, cpu0 := commissionPath(b)
	for i := 0; i < b.N; i++ {
		s := base
		res, err := e.AppendBooking(dst[:0], &s, evs[i%len(evs)])
		if err != nil || len(res.Commissions) != 1 {
			b.Fatal(err, res)
		}
		dst = res.Commissions
	}
	reportRate(b, "bookings", start, cpu0)
}

// BenchmarkCommissionPathReuse is the ledger's variant: AppendBookingFactsAsOf, reusing the
// commission and the fact slices.
func BenchmarkCommissionPathReuse(b *testing.B) {
	var dst []schemas.Commission
	var facts []schemas.PurchaseFact
	asOf := time.Unix(0, math.MaxInt64)
	e, evs, base, start, cpu0 := commissionPath(b)
	for i := 0; i < b.N; i++ {
		s := base
		res, err := e.AppendBookingFactsAsOf(dst[:0], facts[:0], &s, evs[i%len(evs)], asOf)
		if err != nil || len(res.Commissions) != 1 || len(res.Facts) != 2 {
			b.Fatal(err, res)
		}
		dst, facts = res.Commissions, res.Facts
	}
	reportRate(b, "bookings", start, cpu0)
}

// BenchmarkLifecycle: created, confirmed, completed, refund, refund of one booking at a
// client that already keeps 8 bookings (per event).
func BenchmarkLifecycle(b *testing.B) {
	e := benchEngine(b)
	base := ownedState(b, e)
	for i := 0; i < 8; i++ {
		ev := benchBookings(8)[i]
		if _, err := e.Booking(&base, ev); err != nil {
			b.Fatal(err)
		}
	}
	snap, _ := base.MarshalBinary()
	var evs []schemas.Booking
	for i := 0; i < 64; i++ {
		id := fmt.Sprintf("bk-%d", i)
		ev := func(n int, st schemas.Status) schemas.Booking {
			return schemas.Booking{EventID: fmt.Sprintf("ev-%d-%d", i, n), BookingID: id, ClientID: "client-1", BusinessID: "biz-7",
				Status: st, Currency: "EUR", OccurredAt: at(6000 + i)}
		}
		c := ev(2, schemas.StatusCompleted)
		c.Amount = decimal.RequireFromString("120.00")
		r1, r2 := ev(3, schemas.StatusRefunded), ev(4, schemas.StatusRefunded)
		r1.RefundAmount, r2.RefundAmount = decimal.RequireFromString("20.00"), decimal.RequireFromString("30.00")
		evs = append(evs, ev(0, schemas.StatusCreated), ev(1, schemas.StatusConfirmed), c, r1, r2)
	}
	var s State
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 {
			b.StopTimer()
			if err := e.UnmarshalState(&s, snap); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if _, err := e.Booking(&s, evs[j]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOwnerState measures the memory of owner-only clients: heap bytes per State (1M
// clients, interned owners from 10k businesses) and changelog bytes per client.
func BenchmarkOwnerState(b *testing.B) {
	for _, kind := range []string{"uuid-ids", "long-ids"} {
		b.Run(kind, func(b *testing.B) {
			const n = 1 << 20
			e := benchEngine(b)
			evs := make([]schemas.Enrollment, n)
			for i := range evs {
				id := uuidLike(i)
				if kind == "long-ids" {
					id = fmt.Sprintf("enrollment-event-%d", i)
				}
				evs[i] = schemas.Enrollment{EventID: id, ClientID: "c", BusinessID: fmt.Sprintf("biz-%d", i%10000), OccurredAt: at(i % 1000)}
			}
			for i := 0; i < 10000; i++ {
				e.intern(fmt.Sprintf("biz-%d", i))
			}
			states := make([]*State, n)
			for it := 0; it < b.N; it++ {
				clear(states)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range states {
					s := new(State)
					if _, err := e.Enrollment(s, evs[i]); err != nil {
						b.Fatal(err)
					}
					states[i] = s
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/client")
			}
			var wire int
			for _, s := range states[:4096] {
				v, _ := s.MarshalBinary()
				wire += len(v)
			}
			b.ReportMetric(float64(wire)/4096, "changelog-B/client")
			runtime.KeepAlive(evs)
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	e := benchEngine(b)
	s := ownedState(b, e)
	for _, ev := range benchBookings(4) {
		e.Booking(&s, ev)
	}
	data, _ := s.MarshalBinary()
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for i := 0; i < b.N; i++ {
			buf, _ = s.AppendBinary(buf[:0])
		}
		b.ReportMetric(float64(len(data)), "bytes")
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		var u State
		for i := 0; i < b.N; i++ {
			if err := e.UnmarshalState(&u, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBookedStateGC times one garbage collection with 1M clients, each owned and with
// one completed booking at another business, in one slice as the processor's slabs hold them
// (consumers/stream store.go): the mark work a kept booking adds to every GC cycle. It also
// reports the heap objects and bytes a client holds beyond its State.
func BenchmarkBookedStateGC(b *testing.B) { bookedStateGC(b, uuidLike) }

// BenchmarkBookedStateGCLongIDs is BenchmarkBookedStateGC with event and booking ids too
// long to pack (not UUIDs), which the state keeps as strings of their own.
func BenchmarkBookedStateGCLongIDs(b *testing.B) {
	bookedStateGC(b, func(i int) string { return fmt.Sprintf("evt_%024d", i) })
}

func bookedStateGC(b *testing.B, id func(int) string) {
	const n = 1 << 20
	e := benchEngine(b)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	states := make([]State, n)
	for i := range states {
		s := &states[i]
		if _, err := e.Enrollment(s, schemas.Enrollment{EventID: id(i), ClientID: "c", BusinessID: "biz-0", OccurredAt: at(0)}); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Booking(s, schemas.Booking{EventID: id(i + 1<<29), BookingID: id(i + 1<<30), ClientID: "c",
			BusinessID: fmt.Sprintf("biz-%d", 1+i%999), Status: schemas.StatusCompleted,
			Amount: decimal.New(int64(1000+i%50000), -2), Currency: "EUR", OccurredAt: at(1 + i%1000)}); err != nil {
			b.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
	}
	b.StopTimer()
	b.ReportMetric(float64(after.HeapObjects-before.HeapObjects-1)/n, "heap-objects/client")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n-float64(unsafe.Sizeof(State{})), "heap-B/client-beyond-State")
	runtime.KeepAlive(states)
}
