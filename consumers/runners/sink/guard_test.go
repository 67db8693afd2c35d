package sink

import (
	"context"
	"testing"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestGuardedInsert: a sink that buffered purchase facts of a partition does not insert them
// when another member stored records of that partition beyond its mark meanwhile (a rebalance
// zombie's late flush, or the partition's new owner): it drops its buffer and rewinds, marks
// stale, instead of storing the facts twice. Without the other member's rows it inserts.
func TestGuardedInsert(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overtaken bool
		want      uint64 // purchase_facts rows after the flush
	}{
		{"nobody else stored: inserted", false, 3},
		{"another member stored beyond the mark: dropped", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, err := New(Config{Brokers: e.brokers, Topics: e.topics, Group: "g-" + itest.Unique(t),
				ClickHouseAddr: e.chAddr, Database: e.db})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			facts, _ := generateFacts(e.topics, "g", 1) // a purchase, its accrual, a refund, a cancellation…
			topic := string(e.topics.PurchaseFacts)
			k := tp{topic, 0}
			rt := s.routes[topic]
			s.mu.Lock()
			defer s.mu.Unlock()
			s.owned[k] = true
			for i, r := range facts.recs[:3] {
				r.Topic, r.Partition, r.Offset = topic, 0, int64(10+i)
				if rerr := rt.judge(r, true); rerr != nil {
					t.Fatalf("judging fact %d: %v", i, rerr)
				}
				s.rows++
				s.consumed[k] = r.Offset
			}
			rt.rows().noteLast(k, 12)
			if tc.overtaken {
				// The other member's flush: offset 11 of the same partition.
				if err := e.conn.Exec(context.Background(), "INSERT INTO purchase_facts (fact_id, client_id, booking_id, "+
					"provider_business_id, currency, purchases, amount, refunded, commission, source_event_id, _topic, _partition, _offset) "+
					"SELECT 'x', 'c', 'b', 'p', 'EUR', 1, toDecimal64(1, 4), toDecimal64(0, 4), toDecimal64(0, 4), 'e', '"+topic+"', 0, 11"); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.flush(context.Background()); err != nil {
				t.Fatalf("flush: %v", err)
			}
			if n := e.count(t, "SELECT count() FROM purchase_facts"); n != tc.want {
				t.Errorf("purchase_facts holds %d rows, want %d", n, tc.want)
			}
			if s.rewind != tc.overtaken || s.stale != tc.overtaken || s.rows != 0 {
				t.Errorf("after the flush: rewind %v, stale %v, %d rows buffered", s.rewind, s.stale, s.rows)
			}
			if got := s.mark(rt.rows(), k); tc.overtaken == (got == 12) {
				t.Errorf("mark %d after the flush", got)
			}
		})
	}
}
