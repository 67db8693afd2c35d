package simulate

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// TestProduceSmallPreset produces the "small" preset to the real broker and reads back the
// number of records per topic.
func TestProduceSmallPreset(t *testing.T) {
	brokers := itest.Kafka(t)
	topics, list := createInputTopics(t, brokers)
	names := topicNames(topics)
	cl := itest.Client(t, brokers, kgo.MetadataMinAge(200*time.Millisecond))
	cfg, _ := Preset("small")
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	stats, err := Produce(ctx, cl, g, ProduceOptions{Topics: topics, Progress: &progress, Interval: time.Nanosecond})
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	if !strings.Contains(progress.String(), "eta done") || strings.Count(progress.String(), "\n") < 2 {
		t.Errorf("progress output:\n%s", progress.String())
	}

	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, list...)
	if err != nil {
		t.Fatal(err)
	}
	for logical, name := range names {
		var n int64
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == name {
				n += o.Offset
			}
		})
		if n != stats.ByTopic[logical] || n == 0 {
			t.Errorf("%s: %d records in Kafka, generator says %d", logical, n, stats.ByTopic[logical])
		}
	}
	if stats.Records < 10_000 {
		t.Errorf("small preset produced only %d records", stats.Records)
	}
}

func TestProduceStopsOnCancelledContext(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	g, err := New(Config{Clients: 10, Businesses: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Produce(ctx, cl, g, ProduceOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Produce on a cancelled context: %v", err)
	}
	if _, err := Produce(context.Background(), cl, g, ProduceOptions{Rate: -1}); err == nil {
		t.Fatal("negative rate accepted")
	}
}

// BenchmarkProduce measures end-to-end production of 600 clients' events (about 15k records)
// to the real broker, acknowledged (acks=all, idempotent).
func BenchmarkProduce(b *testing.B) {
	brokers := itest.Kafka(b)
	topics, _ := createInputTopics(b, brokers)
	cl := itest.Client(b, brokers, kgo.MetadataMinAge(200*time.Millisecond),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	var n int64
	for b.Loop() {
		g, err := New(Config{Businesses: 60, Clients: 600})
		if err != nil {
			b.Fatal(err)
		}
		s, err := Produce(context.Background(), cl, g, ProduceOptions{Topics: topics})
		if err != nil {
			b.Fatal(err)
		}
		n += s.Records
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// createInputTopics creates the simulator's input topics, 4 partitions each, under a unique prefix
// and returns them with their names.
func createInputTopics(t testing.TB, brokers []string) (schemas.Topics, []string) {
	t.Helper()
	topics := itest.Topics(t)
	var list []string
	for _, n := range topicNames(topics) {
		list = append(list, n)
	}
	itest.CreateTopics(t, brokers, 4, list...)
	return topics, list
}
