package ledger

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// bigProducer can write records up to the broker's default message.max.bytes.
func bigProducer(t *testing.T, brokers []string) *kgo.Client {
	return itest.Client(t, brokers, kgo.ProducerBatchMaxBytes(1_048_000))
}

// TestDeadLettersOnceAcrossRestarts covers findings 3 and 4 of issue 11: a 1 MB bad record
// made the ledger crash-loop (its dead letter exceeded the message size), and businesses dead
// letters were written again on every start. Here a 1 MB random record on bookings and on
// businesses, a malformed and a 9999-dated businesses record go through three starts of the
// ledger: each bad record has exactly one dead letter, the cut ones with size and SHA-256, and
// the valid booking is judged at the default rate (the 9999 rate 1 is not in force).
func TestDeadLettersOnceAcrossRestarts(t *testing.T) {
	brokers := itest.Kafka(t)
	topics := itest.Topics(t).WithDefaults()
	group := "g-" + itest.Unique(t)
	cfg := Config{Brokers: brokers, Topics: topics, Group: group, Partitions: 2, Logger: testLogger()}
	start := func() (*Runner, func()) {
		r := newRunner(t, cfg)
		return r, startRunner(t, r)
	}
	r, stopRunner := start()

	rng := rand.New(rand.NewPCG(3, 4))
	cl := bigProducer(t, brokers)
	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	bad := []*kgo.Record{
		{Topic: string(topics.Businesses), Key: []byte("B1"), Value: itest.RandomBytes(rng, 1_000_000)},
		{Topic: string(topics.Businesses), Key: []byte("B1"), Value: []byte(`{"event_id":"x1","business_id":"B1","name":"n","sector":"s","referral_rate":"1","occurred_at":"9999-12-31T00:00:00Z"}`)},
		{Topic: string(topics.Businesses), Key: []byte("B1"), Value: []byte(`{"event_id":"x2"`)},
		{Topic: string(topics.Bookings), Key: []byte("c1"), Value: itest.RandomBytes(rng, 1_000_000)},
	}
	if err := cl.ProduceSync(ctx, bad...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produce(t, brokers, topics, []input{
		enrollment("e1", "c1", "B1", 0),
		booking("k1", "bk1", "c1", "P", "completed", "100.00 EUR", 1),
	})
	waitAll := func(r *Runner) {
		waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
		deadline := time.Now().Add(60 * time.Second)
		for lagOf(t, brokers, group+"-businesses", string(topics.Businesses)) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("businesses not judged in time")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitAll(r)
	for range 2 {
		stopRunner()
		r, stopRunner = start()
		waitAll(r)
	}
	time.Sleep(time.Second) // a repeat would be written right after the start
	stopRunner()

	dlq := readAll(t, brokers, string(topics.DLQ), 5*time.Second, func([]*kgo.Record) bool { return false })
	ids := map[string]bool{}
	for _, rec := range dlq {
		d, err := schemas.DecodeDeadLetter(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		if ids[d.ID] {
			t.Errorf("dead letter %s of %s/%d@%d written twice", d.ID, d.Topic, d.Partition, d.Offset)
		}
		ids[d.ID] = true
		if d.ID != stream.DeadLetterID("ledger", d.Topic, d.Partition, d.Offset) {
			t.Errorf("dead letter id %s is not derived from its coordinates", d.ID)
		}
		if len(d.Value) < 1000 && d.OriginalBytes == 0 && len(rec.Value) > 500_000 {
			t.Errorf("large dead letter without the original size")
		}
		if d.OriginalBytes == 1_000_000 && len(d.OriginalSHA256) != 64 {
			t.Errorf("cut dead letter without SHA-256")
		}
	}
	if len(dlq) != len(bad) {
		t.Errorf("%d dead letters, want %d (one per bad record)", len(dlq), len(bad))
	}
	recs := readAll(t, brokers, string(topics.Commissions), 10*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= 1 })
	want := map[string]string{"B1/bk1/EUR": "5.00"}
	if net, _, _ := ledgerOf(t, recs); !equalNet(net, want) {
		t.Errorf("net ledger = %v, want %v", net, want)
	}
}
