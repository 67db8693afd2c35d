package itest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// TestFoundation is the first end-to-end check of the real components: a transactional
// producer writes a valid booking, a malformed one and an aborted one to the real broker; a
// read_committed consumer sees only the committed two; the valid booking goes into the real
// ClickHouse (native protocol, named columns) and comes back equal; the malformed one is
// rejected with a reason naming the field.
func TestFoundation(t *testing.T) {
	brokers := itest.Kafka(t)
	chAddr := itest.ClickHouse(t)
	topic := itest.Topic(t, "bookings")
	itest.CreateTopics(t, brokers, 1, topic)
	db := itest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	valid := schemas.Booking{
		EventID: "ev-1", BookingID: "bk-1", ClientID: "cl-1", BusinessID: "biz-spa",
		Status: schemas.StatusCompleted, Amount: decimal.RequireFromString("49.90"), Currency: "EUR",
		Category: "massage", OccurredAt: time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC),
	}
	malformed := []byte(`{"event_id":"ev-2","booking_id":"bk-2","client_id":"cl-1","business_id":"biz-spa","status":"completed","amount":49.9,"currency":"EUR","occurred_at":"2026-03-14T10:30:00Z"}`)
	aborted := schemas.AppendBooking(nil, schemas.Booking{
		EventID: "ev-3", BookingID: "bk-3", ClientID: "cl-1", BusinessID: "biz-spa",
		Status: schemas.StatusCreated, OccurredAt: valid.OccurredAt,
	})

	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.TransactionalID("itest-"+itest.Unique(t)))
	if err != nil {
		t.Fatalf("creating producer: %v", err)
	}
	defer producer.Close()
	produceTxn := func(commit kgo.TransactionEndTry, values ...[]byte) {
		t.Helper()
		if err := producer.BeginTransaction(); err != nil {
			t.Fatalf("beginning transaction: %v", err)
		}
		for _, v := range values {
			if err := producer.ProduceSync(ctx, &kgo.Record{Key: []byte("cl-1"), Value: v}).FirstErr(); err != nil {
				t.Fatalf("producing: %v", err)
			}
		}
		if err := producer.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("ending transaction: %v", err)
		}
	}
	produceTxn(kgo.TryCommit, schemas.AppendBooking(nil, valid), malformed)
	produceTxn(kgo.TryAbort, aborted)
	produceTxn(kgo.TryCommit, schemas.AppendBooking(nil, valid)) // a marker after the aborted batch

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("creating consumer: %v", err)
	}
	defer consumer.Close()
	var recs []*kgo.Record
	for len(recs) < 3 {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("polling: %v", err)
		}
		recs = append(recs, fs.Records()...)
	}
	if len(recs) != 3 {
		t.Fatalf("read_committed consumer got %d records, want 3 (the aborted one must be invisible)", len(recs))
	}

	var good []schemas.Booking
	var rejected []error
	for _, r := range recs {
		b, err := schemas.DecodeBooking(r.Value)
		if err != nil {
			rejected = append(rejected, err)
			continue
		}
		if b.EventID == "ev-3" {
			t.Fatalf("aborted record visible to read_committed consumer")
		}
		good = append(good, b)
	}
	if len(good) != 2 || len(rejected) != 1 {
		t.Fatalf("decoded %d valid, %d rejected; want 2 and 1", len(good), len(rejected))
	}
	var fe *schemas.InvalidError
	if !errors.As(rejected[0], &fe) || fe.Field != "amount" {
		t.Fatalf("malformed booking rejected with %v; want a InvalidError on amount", rejected[0])
	}

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatalf("opening clickhouse: %v", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, `CREATE TABLE bookings (event_id String, booking_id String, client_id String,
		business_id String, status String, amount Decimal(18, 4), currency FixedString(3), occurred_at DateTime)
		ENGINE = MergeTree ORDER BY (client_id, event_id)`); err != nil {
		t.Fatalf("creating table: %v", err)
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO bookings (event_id, booking_id, client_id, business_id, status, amount, currency, occurred_at)")
	if err != nil {
		t.Fatalf("preparing insert: %v", err)
	}
	b := good[0]
	if err := batch.Append(b.EventID, b.BookingID, b.ClientID, b.BusinessID, b.Status.String(), b.Amount, b.Currency, b.OccurredAt); err != nil {
		t.Fatalf("appending row: %v", err)
	}
	if err := batch.Send(); err != nil {
		t.Fatalf("inserting: %v", err)
	}
	var (
		got      decimal.Decimal
		status   string
		occurred time.Time
		n        uint64
	)
	row := conn.QueryRow(ctx, "SELECT count(), any(amount), any(status), any(occurred_at) FROM bookings WHERE booking_id = 'bk-1'")
	if err := row.Scan(&n, &got, &status, &occurred); err != nil {
		t.Fatalf("querying back: %v", err)
	}
	if n != 1 || !got.Equal(valid.Amount) || status != "completed" || !occurred.Equal(valid.OccurredAt) {
		t.Fatalf("read back %d rows amount=%s status=%s at=%s; want 1 row %s completed %s",
			n, got, status, occurred, valid.Amount, valid.OccurredAt)
	}
	t.Logf("3 committed records read, 1 rejected (%v), 1 row round-tripped through ClickHouse", fe)
}
