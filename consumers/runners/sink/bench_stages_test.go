package sink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// BenchmarkSinkStages splits the sink's CPU per row into what each stage adds, over b.N
// bookings produced to the real broker first (not timed), each stage reading them from the
// start in a group of its own:
//
//   - fetch: a franz-go consumer with the sink's fetch options (read_committed, 64 MiB
//     fetches) that drops every record: the floor any sink on franz-go pays;
//   - decode: the same, decoding and checking each booking (schemas.Bounds.DecodeBooking);
//   - rows: the same, buffering each record as the sink does (Sink.handle: decode, checks,
//     the bookings table's column buffers), the buffers reset every 50,000 rows, no insert;
//   - insert: the whole sink (Sink.Run) into the real ClickHouse, as BenchmarkSinkEndToEnd,
//     until its dead-letter judge has read every record too.
//
// rows/cpu-s is the process's own CPU (getrusage), so the differences between the stages
// are what each adds per row:
//
//	TASKOLE_INTEGRATION=1 TASKOLE_KAFKA_BROKERS=127.0.0.1:9092 TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:9000 \
//	  go test -run '^$' -bench SinkStages -benchtime 400000x -count 3 ./consumers/runners/sink/
func BenchmarkSinkStages(b *testing.B) {
	b.Run("stage=fetch", func(b *testing.B) { benchStage(b, func(*Sink, *kgo.Record, *partState) {}) })
	b.Run("stage=decode", func(b *testing.B) {
		var bd schemas.Bounds
		benchStage(b, func(_ *Sink, r *kgo.Record, _ *partState) {
			if _, err := bd.DecodeBooking(r.Value); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("stage=rows", func(b *testing.B) {
		benchStage(b, func(s *Sink, r *kgo.Record, ps *partState) {
			s.handle(r, ps, time.Time{})
			if s.rows == 50_000 {
				ps.route.rows().reset()
				s.rows = 0
			}
		})
	})
	b.Run("stage=insert", func(b *testing.B) {
		e := newEnv(b)
		produceBookings(b, e, b.N)
		wall, cpu := runSinkUntil(context.Background(), b, e, "bookings", b.N, 50_000, e.topics.Bookings)
		reportRates(b, wall, cpu)
	})
}

// benchStage reads b.N produced bookings with the sink's fetch options and hands each to fn.
func benchStage(b *testing.B, fn func(*Sink, *kgo.Record, *partState)) {
	e := newEnv(b)
	produceBookings(b, e, b.N)
	s, err := New(Config{Database: e.db, Topics: e.topics})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumerGroup("stage-"+itest.Unique(b)),
		kgo.ConsumeTopics(string(e.topics.Bookings)), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.FetchMaxBytes(64<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	before, start := cpuTime(), time.Now()
	b.ResetTimer()
	for n := 0; n < b.N; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			ps := &partState{k: tp{fp.Topic, fp.Partition}, route: s.routes[fp.Topic], homeMark: -1, dlqMark: -1}
			for _, r := range fp.Records {
				fn(s, r, ps)
			}
			n += len(fp.Records)
		})
	}
	b.StopTimer()
	reportRates(b, time.Since(start), cpuTime()-before)
}

// produceBookings writes n bookings (benchBooking) to e's bookings topic, untimed.
func produceBookings(b *testing.B, e *testEnv, n int) (bytes int64) {
	ctx := context.Background()
	pr, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(string(e.topics.Bookings)),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	for i := range n {
		bk := benchBooking(i)
		v := schemas.AppendBooking(nil, bk)
		bytes += int64(len(v))
		pr.Produce(ctx, &kgo.Record{Key: []byte(bk.ClientID), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := pr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return bytes
}

// reportRates reports rows per second of wall time and per CPU second of this process.
func reportRates(b *testing.B, wall, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}
