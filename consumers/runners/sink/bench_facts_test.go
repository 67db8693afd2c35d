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
// views of migrations 0131 and 0135 (views=on) or with those three views dropped (views=off): what the
// views cost the sink's inserts. Reported like BenchmarkSinkEndToEnd; the views run inside
// ClickHouse's INSERT, so the sink's own CPU (rows/cpu-s) hardly moves and the cost shows in
// the wall rate. Run the two alternately, several times (-count), on a quiet machine:
//
//	TASKOLE_INTEGRATION=1 TASKOLE_KAFKA_BROKERS=127.0.0.1:9092 TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:9000 \
//	  go test -run '^$' -bench SinkFacts -benchtime 200000x -count 3 ./consumers/runners/sink/
func BenchmarkSinkFacts(b *testing.B) {
	bench := viewBench{table: "purchase_facts", views: []string{"purchase_months_mv", "purchase_times_mv", "client_months_mv"},
		topic: func(tp schemas.Topics) schemas.Topic { return tp.PurchaseFacts },
		record: func(i int) (key, value []byte) {
			f := benchFact(i)
			return []byte(f.ClientID), schemas.AppendPurchaseFact(nil, f)
		}}
	bench.run(b)
}

// benchOwner is the i-th record of BenchmarkSinkOwners: 50,000 clients, so from the 50,001st
// record on each one corrects an earlier owner of its client.
func benchOwner(i int) schemas.ReferralOwner {
	return schemas.ReferralOwner{ClientID: "cli-" + strconv.Itoa(i%50000), OwnerBusinessID: "biz-" + strconv.Itoa(i%700),
		OwnedSince: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Source:     schemas.OwnerByEnrollment, EventID: "evt-" + strconv.Itoa(100000000+i)}
}

// BenchmarkSinkOwners: as BenchmarkSinkFacts, for referral-owners records and the view of
// migration 0133 (current_owners_mv) on or dropped:
//
//	go test -run '^$' -bench SinkOwners -benchtime 200000x -count 3 ./consumers/runners/sink/
func BenchmarkSinkOwners(b *testing.B) {
	bench := viewBench{table: "referral_owners", views: []string{"current_owners_mv"},
		topic: func(tp schemas.Topics) schemas.Topic { return tp.ReferralOwners },
		record: func(i int) (key, value []byte) {
			o := benchOwner(i)
			return []byte(o.ClientID), schemas.AppendReferralOwner(nil, o)
		}}
	bench.run(b)
}

// viewBench measures the sink on one topic with the materialized views on its table present
// (views=on) or dropped (views=off).
type viewBench struct {
	table  string   // the raw table the topic is stored in
	views  []string // the materialized views on it
	topic  func(schemas.Topics) schemas.Topic
	record func(i int) (key, value []byte) // the i-th record produced
}

func (v viewBench) run(b *testing.B) {
	for _, views := range []bool{true, false} {
		name := "views=off"
		if views {
			name = "views=on"
		}
		b.Run(name, func(b *testing.B) { v.once(b, views) })
	}
}

func (v viewBench) once(b *testing.B, views bool) {
	e := newEnv(b)
	ctx := context.Background()
	if !views {
		for _, mv := range v.views {
			if err := e.conn.Exec(ctx, "DROP TABLE "+mv); err != nil {
				b.Fatalf("dropping %s: %v", mv, err)
			}
		}
	}
	pr, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(string(v.topic(e.topics))),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		key, value := v.record(i)
		pr.Produce(ctx, &kgo.Record{Key: key, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := pr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	pr.Close()
	wall, cpu := runSinkUntil(ctx, b, e, v.table, b.N, 50_000, "") // the judge is not awaited: the views cost the inserts
	if n := e.count(b, "SELECT count() FROM "+v.table); n != uint64(b.N) {
		b.Fatalf("%s holds %d rows, want %d", v.table, n, b.N)
	}
	if views {
		e.verifyRollups(b)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}
