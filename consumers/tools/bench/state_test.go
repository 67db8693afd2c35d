package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// businesses is the number of distinct owners the clients are spread over (interned once
// each by the Engine, so their ids are not per-client memory).
const businesses = 20_000

// clientCounts are the scales of BenchmarkOwnerState; BENCH_STATE_CLIENTS (comma-separated)
// overrides them.
func clientCounts(b *testing.B) []int {
	v := os.Getenv("BENCH_STATE_CLIENTS")
	if v == "" {
		if testing.Short() {
			return []int{1_000_000}
		}
		return []int{1_000_000, 10_000_000}
	}
	var out []int
	for _, f := range splitComma(v) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_STATE_CLIENTS: %q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// uuid returns a canonical lower-case UUID string derived from i (what platform producers
// typically use for event and client ids).
func uuid(buf []byte, i uint64) string {
	x := i*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	y := i ^ 0xd1b54a32d192ed03
	buf = fmt.Appendf(buf[:0], "%08x-%04x-4%03x-a%03x-%012x",
		uint32(x), uint16(x>>32), uint16(x>>48)&0xfff, uint16(y)&0xfff, y>>16&0xffffffffffff)
	return string(buf)
}

func enrollment(buf []byte, i int, client string) schemas.Enrollment {
	return schemas.Enrollment{
		EventID:    uuid(buf, uint64(i)<<1|1),
		ClientID:   client,
		BusinessID: "biz-" + strconv.Itoa(i%businesses),
		Source:     "invite",
		OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
	}
}

func newEngine(b *testing.B) *commission.Engine {
	e, err := commission.New(commission.Config{}, commission.NewRates())
	if err != nil {
		b.Fatal(err)
	}
	// Intern every owner up front, as a running ledger has after its first minutes.
	var s commission.State
	for i := 0; i < businesses; i++ {
		s = commission.State{}
		if _, err := e.Enrollment(&s, enrollment(nil, i, "warmup")); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// entry mirrors consumers/stream's per-key store entry (the State and the size of its last
// changelog value), so the "store" figure is what the running ledger holds per client.
type entry struct {
	s    commission.State
	size int32 //nolint:unused // never read: it gives entry the layout of the stream's entry
}

// BenchmarkOwnerState measures, at 1M and 10M owner-only clients (one enrollment each, UUID
// client and event ids, 20k owners):
//   - state-B/client: heap bytes per commission.State (each allocated on its own, as the store does),
//     heap delta after GC;
//   - store-B/client: heap bytes per client of the ledger's in-memory store, a map from the client
//     id (36-byte UUID) to the state entry: key bytes, map slots and entry included;
//   - changelog-B/client: bytes of the client's changelog value (State.AppendBinary), and
//     changelog-record-B/client with its key ('s' + client id).
//
// The target (≤ 64 B of owner state per client) is about state-B/client.
func BenchmarkOwnerState(b *testing.B) {
	for _, n := range clientCounts(b) {
		b.Run(fmt.Sprintf("clients=%s", human(n)), func(b *testing.B) {
			e := newEngine(b)
			var buf []byte
			for b.Loop() {
				// 1. States alone: the pointer slice is allocated before the baseline.
				states := make([]*commission.State, n)
				before := heapAlloc()
				for i := range states {
					s := new(commission.State)
					if _, err := e.Enrollment(s, enrollment(buf, i, "client")); err != nil {
						b.Fatal(err)
					}
					states[i] = s
				}
				after := heapAlloc()
				b.ReportMetric(float64(after-before)/float64(n), "state-B/client")

				var value, record int64
				for _, s := range states {
					buf, _ = s.AppendBinary(buf[:0])
					value += int64(len(buf))
				}
				states = nil
				runtime.KeepAlive(states)

				// 2. The store as the ledger keeps it: map[client id]*entry.
				before = heapAlloc()
				store := make(map[string]*entry)
				for i := 0; i < n; i++ {
					client := uuid(buf, uint64(i)<<1)
					en := new(entry)
					if _, err := e.Enrollment(&en.s, enrollment(buf, i, client)); err != nil {
						b.Fatal(err)
					}
					store[client] = en
					record += int64(1 + len(client))
				}
				after = heapAlloc()
				if len(store) != n {
					b.Fatalf("store holds %d clients, want %d (id collision)", len(store), n)
				}
				b.ReportMetric(float64(after-before)/float64(n), "store-B/client")
				b.ReportMetric(float64(value)/float64(n), "changelog-B/client")
				b.ReportMetric(float64(value+record)/float64(n), "changelog-record-B/client")
				runtime.KeepAlive(store)
			}
		})
	}
}

func human(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}
