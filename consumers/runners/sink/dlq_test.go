package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// readDLQ reads the dead-letter topic to its end.
func readDLQ(t *testing.T, e *testEnv) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(string(e.topics.DLQ)),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for idle := 0; idle < 3; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		f := cl.PollFetches(ctx)
		cancel()
		if f.NumRecords() == 0 {
			idle++
		}
		out = append(out, f.Records()...)
	}
	return out
}

// TestSinkRefusalsReachTheDLQOnce is finding 6 of issue 11: the sink's refusals reached only its
// ClickHouse dlq table, never the dead-letter topic, and a 30-decimal rate the ledger used was
// refused by the sink alone. Now the bounds refuse it for both, and each sink refusal is in the
// dead-letter topic exactly once across a restart (and once in the dlq table).
func TestSinkRefusalsReachTheDLQOnce(t *testing.T) {
	e := newEnv(t)
	group := "g-" + itest.Unique(t)
	tp := e.topics
	bad := []*kgo.Record{
		{Topic: string(tp.Businesses), Key: []byte("B1"), Value: []byte(`{"event_id":"r1","business_id":"B1","name":"n","sector":"s","referral_rate":"0.050000000000000000000000000001","occurred_at":"2025-01-01T00:00:00Z"}`)},
		{Topic: string(tp.Bookings), Key: []byte("c1"), Value: []byte(`{"event_id":"k1","booking_id":"b1","client_id":"` + strings.Repeat("x", 100_000) + `","business_id":"P","status":"created","occurred_at":"2025-01-01T00:00:00Z"}`)},
		{Topic: string(tp.Feedback), Key: []byte("c1"), Value: []byte(`{"event_id":"f1","client_id":"c1","business_id":"P","kind":"nps","score":11,"occurred_at":"2025-01-01T00:00:00Z"}`)},
		{Topic: string(tp.Enrollments), Key: []byte("c1"), Value: []byte(`{"event_id":"e1","client_id":"c1","business_id":"P","occurred_at":"9999-01-01T00:00:00Z"}`)},
	}
	good := &kgo.Record{Topic: string(tp.Bookings), Key: []byte("c2"), Value: []byte(`{"event_id":"k2","booking_id":"b2","client_id":"c2","business_id":"P","status":"created","occurred_at":"2025-01-01T00:00:00Z"}`)}
	e.produce(t, append(append([]*kgo.Record(nil), bad...), good))
	for run := range 2 {
		stop := runSink(t, e, group)
		deadline := time.Now().Add(60 * time.Second)
		for e.count(t, "SELECT count() FROM dlq WHERE consumer = 'sink'") < uint64(len(bad)) || e.count(t, "SELECT count() FROM bookings") < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("run %d: sink did not store the records", run)
			}
			time.Sleep(300 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		stop()
	}
	if n := e.count(t, "SELECT count() FROM dlq WHERE consumer = 'sink'"); n != uint64(len(bad)) {
		t.Errorf("dlq table holds %d sink refusals, want %d", n, len(bad))
	}
	if n := e.count(t, "SELECT count() FROM businesses"); n != 0 {
		t.Errorf("the 30-decimal rate reached ClickHouse (%d rows)", n)
	}
	seen := map[string]int{}
	for _, r := range readDLQ(t, e) {
		d, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Consumer != "sink" {
			continue
		}
		seen[d.Topic+"/"+d.ID]++
		if d.ID != stream.DeadLetterID("sink", d.Topic, d.Partition, d.Offset) {
			t.Errorf("dead letter id %s not derived from its coordinates", d.ID)
		}
		if len(d.Error) > 400 {
			t.Errorf("dead letter error of %d bytes quotes too much", len(d.Error))
		}
	}
	if len(seen) != len(bad) {
		t.Errorf("%d distinct sink dead letters, want %d: %v", len(seen), len(bad), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s written %d times", k, n)
		}
	}
}
