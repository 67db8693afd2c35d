package sink

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// benchFact is the i-th purchase fact of BenchmarkSinkFacts: mostly purchases, every fourth a
// commission entry, every tenth a refund, spread over 50,000 clients and two years.
func benchFact(i int) schemas.PurchaseFact {
	id := strconv.Itoa(100000000 + i)
	f := schemas.PurchaseFact{FactID: "fact-" + id, ClientID: "cli-" + strconv.Itoa(i%50000), BookingID: "bkg-" + id,
		ProviderBusinessID: "biz-" + strconv.Itoa(i%700), Currency: "EUR", SourceEventID: "evt-" + id,
		CompletedAt: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i%(730*24*60)) * time.Minute),
		Amount:      decimal.Zero, Refunded: decimal.Zero, Commission: decimal.Zero}
	f.OccurredAt = f.CompletedAt
	switch {
	case i%4 == 3:
		f.CommissionOwner, f.Commission = "biz-"+strconv.Itoa((i+1)%700), decimal.New(int64(50+i%900), -2)
	case i%10 == 9:
		f.Refunded = decimal.New(int64(100+i%900), -2)
	default:
		f.Purchases, f.Amount = 1, decimal.New(int64(1000+i%90000), -2)
	}
	return f
}

// BenchmarkSinkFacts: b.N purchase facts produced to the real broker first (not timed), then
// a sink consumes them into the real ClickHouse with the purchase rollups' materialized
// views of migration 0131 (views=on) or with those two views dropped (views=off): what the
// views cost the sink's inserts. Reported like BenchmarkSinkEndToEnd; the views run inside
// ClickHouse's INSERT, so the sink's own CPU (rows/cpu-s) hardly moves and the cost shows in
// the wall rate. Run the two alternately, several times (-count), on a quiet machine:
//
//	TASKOLE_INTEGRATION=1 TASKOLE_KAFKA_BROKERS=127.0.0.1:9092 TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:9000 \
//	  go test -run '^$' -bench SinkFacts -benchtime 200000x -count 3 ./consumers/runners/sink/
func BenchmarkSinkFacts(b *testing.B) {
	for _, views := range []bool{true, false} {
		name := "views=off"
		if views {
			name = "views=on"
		}
		b.Run(name, func(b *testing.B) { benchFacts(b, views) })
	}
}

func benchFacts(b *testing.B, views bool) {
	e := newEnv(b)
	ctx := context.Background()
	if !views {
		for _, mv := range []string{"purchase_months_mv", "purchase_times_mv"} {
			if err := e.conn.Exec(ctx, "DROP TABLE "+mv); err != nil {
				b.Fatalf("dropping %s: %v", mv, err)
			}
		}
	}
	pr, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(string(e.topics.PurchaseFacts)),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		f := benchFact(i)
		pr.Produce(ctx, &kgo.Record{Key: []byte(f.ClientID), Value: schemas.AppendPurchaseFact(nil, f)}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := pr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	pr.Close()
	wall, cpu := runSinkUntil(ctx, b, e, "purchase_facts", b.N, 50_000)
	if n := e.count(b, "SELECT count() FROM purchase_facts"); n != uint64(b.N) {
		b.Fatalf("purchase_facts holds %d rows, want %d", n, b.N)
	}
	if views {
		e.verifyRollups(b)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}
