package sink

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// BenchmarkHandleBooking measures decode + checks + columnar row mapping of one booking.
func BenchmarkHandleBooking(b *testing.B) {
	s, err := New(Config{Database: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tp := schemas.Topics{}.WithDefaults()
	v := schemas.AppendBooking(nil, benchBooking(1))
	r := &kgo.Record{Topic: string(tp.Bookings), Partition: 0, Value: v}
	rt := s.routes[r.Topic]
	ps := &partState{k: tp2(r), route: rt, homeMark: -1, dlqMark: -1}
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(v)))
	for i := 0; b.Loop(); i++ {
		r.Offset = int64(i)
		s.handle(r, ps, now)
		if s.rows == 50_000 {
			rt.rows().reset()
			s.rows = 0
		}
	}
}

func tp2(r *kgo.Record) tp { return tp{r.Topic, r.Partition} }

func benchBooking(i int) schemas.Booking {
	id := strconv.Itoa(100000000 + i)
	return schemas.Booking{EventID: "evt-" + id, BookingID: "bkg-" + id,
		ClientID: "cli-" + strconv.Itoa(i%50000), BusinessID: "biz-" + strconv.Itoa(i%700),
		Status: schemas.StatusCompleted, Amount: decimal.New(int64(1000+i%90000), -2), Currency: "EUR",
		Category: "massage", OccurredAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)}
}

// BenchmarkSinkEndToEnd: b.N bookings are produced to the real broker first (not timed);
// then a sink consumes them read_committed into the real ClickHouse. Reported: rows/s of
// wall time and rows per CPU-second of this process (user+sys from getrusage, which
// includes franz-go's fetch goroutines; ClickHouse's own CPU is not counted).
//
//	TASKOLE_INTEGRATION=1 TASKOLE_KAFKA_BROKERS=127.0.0.1:9092 TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:9000 \
//	  go test -run '^$' -bench SinkEndToEnd -benchtime 1000000x ./consumers/runners/sink/
func BenchmarkSinkEndToEnd(b *testing.B) {
	for _, rows := range []int{50_000, 200_000} {
		b.Run(fmt.Sprintf("batch=%d", rows), func(b *testing.B) { benchEndToEnd(b, rows) })
	}
}

func benchEndToEnd(b *testing.B, batchRows int) {
	e := newEnv(b)
	ctx := context.Background()
	bytes := produceBookings(b, e, b.N)

	wall, cpu := runSinkUntil(ctx, b, e, "bookings", b.N, batchRows, e.topics.Bookings)
	if n := e.count(b, "SELECT count() FROM bookings"); n != uint64(b.N) {
		b.Fatalf("bookings holds %d rows, want %d", n, b.N)
	}
	b.SetBytes(bytes / int64(b.N))
	reportRates(b, wall, cpu)
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
}

// runSinkUntil runs a sink (batches of batchRows rows) until it has inserted want rows into
// table and, when judged is not "", until its dead-letter judge (Sink.judgeDeadLetters, a
// second consumer of every topic in the group <group>-dlq) has committed all of judged too:
// the sink process's whole work on the records. It times that (b's timer and the returned
// wall and own CPU time).
func runSinkUntil(ctx context.Context, b *testing.B, e *testEnv, table string, want, batchRows int, judged schemas.Topic) (wall, cpu time.Duration) {
	group := "bench-" + itest.Unique(b)
	s, err := New(Config{Brokers: e.brokers, Topics: e.topics, Group: group,
		ClickHouseAddr: e.chAddr, Database: e.db, BatchRows: batchRows, BatchInterval: 200 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	inserted := s.met.inserted.WithLabelValues(table)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	before := cpuTime()
	start := time.Now()
	b.ResetTimer()
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	acl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer acl.Close()
	adm := kadm.NewClient(acl)
	for counterValue(inserted) < want || judged != "" && !judgeDone(ctx, adm, group, judged) {
		select {
		case err := <-done:
			b.Fatalf("sink stopped: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	b.StopTimer()
	wall, cpu = time.Since(start), cpuTime()-before
	cancel()
	if err := <-done; err != nil {
		b.Fatal(fmt.Errorf("sink: %w", err))
	}
	return wall, cpu
}

// judgeDone reports whether the sink's judge (group <group>-dlq) has committed every record
// of topic.
func judgeDone(ctx context.Context, adm *kadm.Client, group string, topic schemas.Topic) bool {
	ok, _ := itest.CaughtUpWritten(ctx, adm, group+"-dlq", string(topic))
	return ok
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func counterValue(c prometheus.Counter) int {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return int(m.GetCounter().GetValue())
}
