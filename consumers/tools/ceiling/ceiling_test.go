package ceiling

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/metrictest"
)

// TestCeilings runs both ceilings over a few hundred enrollment and booking records and
// checks that each counts every input record once in taskole_stream_records_in_total, and
// that the pass-through wrote every record unchanged (key, value, partition) to its output.
func TestCeilings(t *testing.T) {
	brokers := itest.Kafka(t)
	prefix := "t_" + itest.Unique(t) + "."
	cfg := Config{Brokers: brokers, TopicPrefix: prefix, Partitions: 3}
	tp := cfg.topics()
	itest.CreateTopics(t, brokers, 3, string(tp.Enrollments), string(tp.Bookings), string(tp.DLQ))
	cl := itest.Client(t, brokers)
	want := map[string]string{}
	var recs []*kgo.Record
	for i := range 300 {
		topic := string(tp.Bookings)
		if i%3 == 0 {
			topic = string(tp.Enrollments)
		}
		k, v := fmt.Sprintf("c%d", i), fmt.Sprintf(`{"n":%d}`, i)
		want[k] = v
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"stream", "passthrough"} {
		t.Run(mode, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			c := cfg
			c.Registry = reg
			var (
				r   itest.Runner
				err error
			)
			if mode == "stream" {
				r, err = NewStream(c)
			} else {
				r, err = NewPassThrough(c)
			}
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := itest.Start(ctx, t, mode, r)
			itest.WaitFor(runCtx, t, mode+" to count every record", func() (bool, string) {
				got := metrictest.Sum(t, reg, "taskole_stream_records_in_total")
				return got == float64(len(recs)), fmt.Sprintf("%v of %d", got, len(recs))
			})
			stop()
			if mode == "passthrough" {
				checkOutput(ctx, t, brokers, prefix+passThroughOut, recs, want)
			}
		})
	}
}

// checkOutput reads the pass-through's output read_committed and compares it with the input.
func checkOutput(ctx context.Context, t *testing.T, brokers []string, topic string, in []*kgo.Record, want map[string]string) {
	t.Helper()
	parts := map[string]int32{}
	for _, r := range in {
		parts[string(r.Key)] = r.Partition
	}
	rd := itest.Client(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	got := map[string]string{}
	for len(got) < len(want) && ctx.Err() == nil {
		fs := rd.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			k := string(r.Key)
			if _, dup := got[k]; dup {
				t.Errorf("record %s passed through twice", k)
			}
			if r.Partition != parts[k] {
				t.Errorf("record %s on partition %d, read from %d", k, r.Partition, parts[k])
			}
			got[k] = string(r.Value)
		})
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("record %s: passed through %q, want %q", k, got[k], v)
		}
	}
}
