package ledger

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestNoEffectNoChangelogWrite: records the rules find have no effect — a redelivered
// enrollment, a claim that loses to the owner's, a redelivered booking event — handled in
// transactions of their own write nothing to the changelog; a booking event that changes the
// state writes the client's state once more (the control that the count can move).
func TestNoEffectNoChangelogWrite(t *testing.T) {
	brokers, topics, r, stop := startSolo(t)
	defer stop()
	phase := func(ins ...input) int {
		t.Helper()
		produce(t, brokers, topics, ins)
		waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
		n := 0
		for _, rec := range readAll(t, brokers, r.cfg.Changelog, 3*time.Second, func([]*kgo.Record) bool { return false }) {
			if string(rec.Key) == "sc1" { // the state of client c1 (stream's 's' key prefix)
				n++
			}
		}
		return n
	}
	first := phase(enrollment("e1", "c1", "B1", 0), booking("k1", "bk1", "c1", "P", "created", "", 1))
	if first == 0 {
		t.Fatal("no changelog record of client c1 after its first events")
	}
	if n := phase(enrollment("e1", "c1", "B1", 0), enrollment("e2", "c1", "B2", 2), booking("k1", "bk1", "c1", "P", "created", "", 1)); n != first {
		t.Errorf("changelog records of c1: %d after records without effect, %d before", n, first)
	}
	if n := phase(booking("k2", "bk1", "c1", "P", "completed", "100.00 EUR", 3)); n != first+1 {
		t.Errorf("changelog records of c1: %d after a completion, want %d", n, first+1)
	}
}
