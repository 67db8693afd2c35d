package ledger

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLedgerEndToEnd runs the ledger runner in-process against the local broker over
// b.N bookings (one enrollment per 4 bookings' client, each booking completed at another
// business): records/s of wall time and CPU time per record (the whole process: consumer,
// rules, producer, franz-go). murmur2: every record on its murmur2 partition (the direct
// path); crc32: produced the librdkafka way, so about 3 in 4 records (4 partitions) go
// through the repartition topic.
func BenchmarkLedgerEndToEnd(b *testing.B) {
	b.Run("murmur2", func(b *testing.B) { benchLedger(b, kgo.StickyKeyPartitioner(nil)) })
	b.Run("crc32", func(b *testing.B) { benchLedger(b, crc32Partitioner()) })
}

func benchLedger(b *testing.B, part kgo.Partitioner) {
	brokers := itest.Kafka(b)
	topics := itest.Topics(b)
	r := newRunner(b, Config{Brokers: brokers, Topics: topics, Group: "g-" + itest.Unique(b), Partitions: 4, Logger: testLogger()})
	stop := startRunner(b, r)
	var ins []input
	clients := max(b.N/4, 1)
	for c := 0; c < clients; c++ {
		ins = append(ins, enrollment(fmt.Sprintf("e%d", c), fmt.Sprintf("c%d", c), "B1", 0))
	}
	for i := 0; i < b.N; i++ {
		c := i % clients
		ins = append(ins, booking(fmt.Sprintf("k%d", i), fmt.Sprintf("bk%d", i), fmt.Sprintf("c%d", c), "B2", "completed", "42.50 EUR", 1+i%1000))
	}
	// Timed from the start of producing (the ledger consumes as records arrive) until the
	// group has committed everything; CPU time includes this process's producer.
	cl := itest.Client(b, brokers, kgo.ProducerLinger(5*time.Millisecond), kgo.RecordPartitioner(part))
	recs := records(topics, ins)
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	for lagOf(b, brokers, r.cfg.Group, string(topics.Enrollments), string(topics.Bookings)) != 0 ||
		repartitionLag(b, brokers, r.cfg.Group, r.cfg.Repartition) != 0 {
		time.Sleep(20 * time.Millisecond)
	}
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	n := float64(len(ins))
	b.ReportMetric(n/wall.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/record")
	b.ReportMetric(n/cpu.Seconds(), "records/cpu-s")
	stop()
}
