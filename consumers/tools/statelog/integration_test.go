package statelog

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/metrictest"
	"github.com/taskole/revshare/consumers/topology"
)

// TestGenerateRestores writes a small "real" changelog (overwrites, a tombstone, a metadata
// record), samples it, generates a synthetic changelog of 50 clients from the sample under a
// fresh namespace, and starts the real ledger on it: it restores exactly the 50 records and
// holds 50 clients with the generated value bytes.
func TestGenerateRestores(t *testing.T) {
	brokers := itest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, ss := states(t)
	owner, _ := ss[0].AppendBinary(nil)
	busy, _ := ss[1].AppendBinary(nil)

	src := itest.Topic(t, "source-state")
	itest.CreateTopics(t, brokers, 3, src)
	cl := itest.Client(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	recs := []*kgo.Record{
		Record(src, "a", owner, 3), Record(src, "a", busy, 3), // a: busy, its latest
		Record(src, "b", owner, 3),
		Record(src, "c", busy, 3), {Topic: src, Key: stream.ChangelogKey("c"), Partition: stream.KeyPartition([]byte("c"), 3)}, // c: deleted
		{Topic: src, Key: []byte("mwatermark"), Value: make([]byte, 8)},
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sample, err := ReadSample(ctx, cl, src)
	if err != nil {
		t.Fatal(err)
	}
	if sample.Records != int64(len(recs)) || len(sample.Values) != 2 || sample.Bytes != int64(len(owner)+len(busy)) {
		t.Fatalf("sample: %d records, %d clients, %d bytes; want %d, 2, %d", sample.Records, len(sample.Values), sample.Bytes, len(recs), len(owner)+len(busy))
	}

	topics := itest.Topics(t)
	tp := topology.New(topics.Prefix)
	if err := stream.EnsureTopics(ctx, cl, tp.Specs(3), tp.CoPartitioned()...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var names []string
		for _, s := range tp.Specs(3) {
			names = append(names, s.Name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, names...)
	})
	changelog := ledger.ChangelogFor(topics)
	const clients = 50
	w, err := Generate(ctx, cl, changelog, 3, sample, clients)
	if err != nil {
		t.Fatal(err)
	}
	var valueBytes int64
	for i := range clients {
		valueBytes += int64(len(sample.Values[i%len(sample.Values)]))
	}
	if w.Records != clients {
		t.Fatalf("generated %d records; want %d", w.Records, clients)
	}
	if n, err := TopicBytes(ctx, cl, changelog, 3); err != nil || n <= 0 {
		t.Fatalf("TopicBytes(%s) = %d, %v; want > 0", changelog, n, err)
	}

	reg := prometheus.NewRegistry()
	r, err := ledger.New(ledger.Config{Brokers: brokers, Topics: topics, Group: "g-" + itest.Unique(t), Partitions: 3,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := itest.Start(ctx, t, "the ledger", r)
	defer stop()
	itest.WaitFor(runCtx, t, "the restore", func() (bool, string) {
		n := metrictest.Sum(t, reg, "taskole_stream_restored_records_total")
		return r.Ready() && metrictest.Sum(t, reg, "taskole_stream_partitions") == 3 && n == clients, "restored " + ftoa(n)
	})
	// No input after the restore: the restored partitions wake the idle loop, which publishes
	// the restored state's size.
	itest.WaitFor(runCtx, t, "the state gauges", func() (bool, string) {
		keys, bytes := metrictest.Sum(t, reg, "taskole_stream_state_keys"), metrictest.Sum(t, reg, "taskole_stream_state_bytes")
		return keys == clients && bytes == float64(valueBytes), "keys " + ftoa(keys) + ", bytes " + ftoa(bytes)
	})
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
