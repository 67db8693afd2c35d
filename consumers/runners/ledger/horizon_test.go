package ledger

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// TestFarFutureDoesNotPoisonPartition is finding 2 of issue 11: after one valid `created` event
// dated 2199 on a partition, every valid refund of an earlier booking of another client on that
// partition was dead-lettered beyond_horizon (the horizon followed the partition's watermark).
// The horizon is per client now, so the refunds count.
func TestFarFutureDoesNotPoisonPartition(t *testing.T) {
	brokers, topics, r, stop := startSolo(t)
	const n = 5
	var first, second []input
	want := map[string]string{}
	for i := range n {
		c := fmt.Sprintf("c%d", i)
		first = append(first, enrollment("e-"+c, c, "B1", 0),
			booking("k1-"+c, "bk-"+c, c, "P", "completed", "100.00 EUR", 1))
		second = append(second, booking("k2-"+c, "bk-"+c, c, "P", "refunded", "40.00 EUR", 2))
		want["B1/bk-"+c+"/EUR"] = "3.00" // 60.00 × 0.05
	}
	future := `{"event_id":"far","booking_id":"bk-far","client_id":"far","business_id":"P","status":"created","occurred_at":"2199-06-01T00:00:00Z"}`
	first = append(first, input{"bookings", "far", future, ""})
	produce(t, brokers, topics, first)
	waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
	produce(t, brokers, topics, second)
	waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
	recs := readAll(t, brokers, string(topics.Commissions), 30*time.Second, func(rs []*kgo.Record) bool {
		net, _, _ := ledgerOf(t, rs)
		return equalNet(net, want)
	})
	if net, _, _ := ledgerOf(t, recs); !equalNet(net, want) {
		t.Errorf("net ledger = %v, want %v", net, want)
	}
	for _, d := range readAll(t, brokers, string(topics.DLQ), 2*time.Second, func([]*kgo.Record) bool { return false }) {
		dl, _ := schemas.DecodeDeadLetter(d.Value)
		t.Errorf("dead letter %s@%d: %s", dl.Topic, dl.Offset, dl.Error)
	}
	stop()
}
