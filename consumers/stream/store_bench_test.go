package stream

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkStateGC times one garbage collection with a partition holding N decoded states,
// as Tx.State leaves them: the mark work the processor's state adds to every GC cycle of a
// running consumer (the pause of a latency probe's tail, DESIGN "States are kept in slabs").
// Every state has an owner (one of a few shared strings), every other one a booking.
func BenchmarkStateGC(b *testing.B) {
	owners := []string{"biz-1", "biz-2", "biz-3", "biz-4"}
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			pt := newPart[benchState](0, benchHandler{}, false)
			tx := &Tx[benchState]{p: pt}
			for i := range n {
				s := tx.State("client-" + strconv.Itoa(i))
				s.owner = owners[i%len(owners)]
				if i%2 == 0 {
					s.bookings = []benchBooking{{id: "booking-" + strconv.Itoa(i), amount: int64(i), at: int64(i)}}
				}
			}
			clear(pt.dirty)
			runtime.GC()
			b.ResetTimer()
			for b.Loop() {
				runtime.GC()
			}
			b.StopTimer()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapObjects)/float64(n), "heap-objects/key")
			runtime.KeepAlive(pt)
		})
	}
}
