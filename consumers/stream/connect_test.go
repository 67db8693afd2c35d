package stream

import (
	"testing"
	"time"
)

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
