package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// lagOf returns the records of topics not yet committed by group.
func lagOf(t testing.TB, brokers []string, group string, topics ...string) int64 {
	return lagAbove(t, brokers, group, 0, topics...)
}

// repartitionLag returns the records of the repartition topic not yet committed by group,
// not counting the one transaction marker that may follow each partition's last record (the
// ledger writes that topic transactionally, and a consumer never commits past a marker).
func repartitionLag(t testing.TB, brokers []string, group, topic string) int64 {
	return lagAbove(t, brokers, group, 1, topic)
}

// lagAbove returns the records of topics not yet committed by group, counting only the
// partitions more than slack records behind; -1 when the offsets cannot be listed.
func lagAbove(t testing.TB, brokers []string, group string, slack int64, topics ...string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return -1
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		at := int64(0)
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok {
			at = c.At
		}
		if d := o.Offset - at; d > slack {
			lag += d
		}
	})
	return lag
}

func topicNames(t schemas.Topics) []string {
	t = t.WithDefaults()
	return []string{string(t.Enrollments), string(t.Bookings), string(t.Businesses), string(t.Feedback),
		string(t.AcquisitionCosts), string(t.ReferralOwners), string(t.Commissions), string(t.Payouts), string(t.DLQ), string(t.RetentionCosts), string(t.PurchaseFacts)}
}

func deleteAll(ctx context.Context, cl *kgo.Client, topics ...string) error {
	_, err := kadm.NewClient(cl).DeleteTopics(ctx, topics...)
	return err
}

func topicExists(t testing.TB, cl *kgo.Client, topic string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return false
	}
	td, ok := d[topic]
	return ok && td.Err == nil && len(td.Partitions) > 0
}
