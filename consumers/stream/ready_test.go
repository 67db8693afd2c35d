package stream

import (
	"testing"
	"time"
)

// TestReadyOnlyAfterRestore pins /readyz: a processor is not ready before it has joined its
// group, and the first moment it is ready, its assigned partitions have been restored from
// the changelog (the restore histogram has an observation). Before the fix, Ready answered
// true between Run starting and the first assignment.
func TestReadyOnlyAfterRestore(t *testing.T) {
	f := newFixture(t)
	f.produce(10)
	a := f.start("a")
	deadline := time.Now().Add(20 * time.Second)
	for !a.p.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("processor not ready within 20s")
		}
		time.Sleep(time.Millisecond)
	}
	if n := a.restores(t); n < 1 {
		t.Fatalf("ready with %v partition restores observed; want at least one", n)
	}
}

// restores returns how many restores the processor has observed.
func (in *instance) restores(t *testing.T) uint64 {
	t.Helper()
	mfs, err := in.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "taskole_stream_restore_seconds" {
			for _, m := range mf.GetMetric() {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestRestoreBeforeSessionIsSet: the client joins the group as it is created, so the group
// callbacks can restore partitions before connect has set p.sess (CI once saw onFetched
// dereference a nil session there). Holding closeMu keeps connect from setting p.sess while
// the group assigns and restores; the restore must not need it, and the run must then
// process every input exactly once.
func TestRestoreBeforeSessionIsSet(t *testing.T) {
	f := newFixture(t)
	f.produce(40)
	in := f.prepare("a")
	in.p.closeMu.Lock()
	f.run(in)
	waitFor(t, 10*time.Second, "partitions restored while connect waits", func() bool {
		in.p.mu.Lock()
		defer in.p.mu.Unlock()
		return len(in.p.assigned) == fxPartitions
	})
	in.p.closeMu.Unlock()
	f.produce(40)
	f.finish(10*time.Second, in)
}
