package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// TestFarFutureEventStored runs the ledger and the sink on the real broker and ClickHouse over
// a valid client enrolled and booking in 2150 (SPEC R8: event times are valid until 2200),
// beyond ClickHouse DateTime's end: no dead letter from either, the sink stores every row
// with its exact time in the *_unix companions (DateTime saturated at 2105-12-31 23:59:59),
// and BI's realized CLV shows the commission the ledger booked. Before the fix the sink
// dead-lettered the records "outside DateTime's range" while the ledger booked the commission.
func TestFarFutureEventStored(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	brokers, topics, addr, db, conn := itest.Pipeline(ctx, t)
	itest.CreateTopics(t, brokers, partitions, string(topics.Enrollments), string(topics.Bookings), string(topics.Businesses),
		string(topics.Feedback), string(topics.AcquisitionCosts), string(topics.RetentionCosts), string(topics.ReferralOwners),
		string(topics.Commissions), string(topics.Payouts), string(topics.DLQ))

	enrolled := time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC)
	booked := time.Date(2150, 6, 1, 10, 0, 0, 0, time.UTC)
	recs := []*kgo.Record{
		{Topic: string(topics.Businesses), Key: []byte("B1"), Value: []byte(`{"event_id":"r1","business_id":"B1","name":"n","sector":"beauty","referral_rate":"0.10","occurred_at":"2025-01-01T00:00:00Z"}`)},
		{Topic: string(topics.Enrollments), Key: []byte("F"), Value: []byte(`{"event_id":"e1","client_id":"F","business_id":"B1","occurred_at":"2150-01-01T00:00:00Z"}`)},
		{Topic: string(topics.Bookings), Key: []byte("F"), Value: []byte(`{"event_id":"k1","booking_id":"b1","client_id":"F","business_id":"P","status":"completed","amount":"100.00","currency":"EUR","occurred_at":"2150-06-01T10:00:00Z"}`)},
		{Topic: string(topics.RetentionCosts), Key: []byte("B1"), Value: []byte(`{"event_id":"rc1","business_id":"B1","client_id":"F","amount":"2.50","currency":"EUR","kind":"loyalty_discount","occurred_at":"2150-06-02T00:00:00Z"}`)},
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	produce := func(rs ...*kgo.Record) {
		t.Helper()
		if err := pcl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}
	// The rate and the enrollment first: the booking then finds its client owned by B1 (a
	// booking judged first would make its provider the owner until the enrollment corrects it).
	produce(recs[:2]...)

	group := "far-" + itest.Unique(t)
	led := newLedger(t, brokers, topics, group, "ledger", partitions)
	snk := newSink(t, brokers, topics, group, "sink", addr, db, 0)
	egCtx, stop := itest.Start(ctx, t, "ledger and sink", led, snk)
	defer stop()
	k := kadm.NewClient(itest.Client(t, brokers))
	itest.WaitFor(egCtx, t, "the ledger", func() (bool, string) {
		return itest.CaughtUpWritten(egCtx, k, group+"-ledger", string(topics.Enrollments), string(topics.Bookings))
	})
	itest.WaitFor(egCtx, t, "the ledger's rates", func() (bool, string) {
		return itest.CaughtUpWritten(egCtx, k, group+"-ledger-businesses", string(topics.Businesses))
	})
	produce(recs[2:]...)
	itest.WaitFor(egCtx, t, "the ledger", func() (bool, string) {
		return itest.CaughtUpWritten(egCtx, k, group+"-ledger", string(topics.Enrollments), string(topics.Bookings))
	})

	// Finance: the ledger booked 10.00 for B1 on b1.
	ledgerNet := decimal.Zero
	var entries int
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Commissions)) {
		if _, marker := headerOf(r, schemas.MarkerHeader); marker {
			continue
		}
		c, err := schemas.DecodeCommission(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if c.BookingID != "b1" || c.OwnerBusinessID != "B1" || !c.OccurredAt.Equal(booked) {
			t.Errorf("commission %s: booking %s owner %s at %v", c.CommissionID, c.BookingID, c.OwnerBusinessID, c.OccurredAt)
		}
		ledgerNet = ledgerNet.Add(c.Amount)
		entries++
	}
	if entries == 0 || !ledgerNet.Equal(decimal.RequireFromString("10")) {
		t.Fatalf("ledger: %d commission entries netting %s for b1, want 10.00", entries, ledgerNet)
	}

	inputs := []string{string(topics.Enrollments), string(topics.Bookings), string(topics.Businesses), string(topics.Feedback),
		string(topics.AcquisitionCosts), string(topics.RetentionCosts)}
	itest.WaitFor(egCtx, t, "the sink", func() (bool, string) { return itest.CaughtUpWritten(egCtx, k, group+"-sink", inputs...) })
	itest.WaitFor(egCtx, t, "the sink's judge", func() (bool, string) { return itest.CaughtUpWritten(egCtx, k, group+"-sink-dlq", inputs...) })
	// The ledger's outputs are transactional (their last offset is a commit marker the sink's
	// group never commits past): wait for their rows instead.
	itest.WaitFor(egCtx, t, "the ledger's outputs in ClickHouse", func() (bool, string) {
		var c, o uint64
		if err := conn.QueryRow(ctx, "SELECT (SELECT count() FROM commissions), (SELECT count() FROM referral_owners)").Scan(&c, &o); err != nil {
			return false, err.Error()
		}
		return c >= uint64(entries) && o > 0, fmt.Sprintf("%d commissions, %d owners", c, o)
	})
	if dl := readCommitted(egCtx, t, brokers, string(topics.DLQ)); len(dl) > 0 {
		d, _ := schemas.DecodeDeadLetter(dl[0].Value)
		t.Fatalf("%d dead letters, want none; first from %s: %s", len(dl), d.Consumer, d.Error)
	}

	// Storage: every row, its DateTime saturated, its exact time in the companion.
	ceiling := time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, c := range []struct {
		table, col string
		want       time.Time
	}{
		{"enrollments", "occurred_at", enrolled},
		{"bookings", "occurred_at", booked},
		{"retention_costs", "occurred_at", time.Date(2150, 6, 2, 0, 0, 0, 0, time.UTC)},
		{"referral_owners", "owned_since", enrolled},
		{"commissions", "occurred_at", booked},
	} {
		var n uint64
		var at time.Time
		var exact int64
		q := "SELECT count(), max(" + c.col + "), max(" + c.col + "_unix) FROM " + c.table
		if err := conn.QueryRow(ctx, q).Scan(&n, &at, &exact); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n == 0 || !at.Equal(ceiling) || exact != c.want.Unix() {
			t.Errorf("%s: %d rows, %s %v, %s_unix %d; want rows, %v, %d", c.table, n, c.col, at, c.col, exact, ceiling, c.want.Unix())
		}
	}
	var payable int64
	if err := conn.QueryRow(ctx, "SELECT max(payable_at_unix) FROM commissions").Scan(&payable); err != nil || payable <= booked.Unix() {
		t.Errorf("commissions.payable_at_unix = %d (%v), want after %d", payable, err, booked.Unix())
	}

	// BI: realized CLV of B1's clients shows the ledger's commission, in the saturated month.
	tb := run(ctx, t, conn, "realized_clv", map[string]string{"by": "owner", "owner": "B1", "until": "2105-12-31"})
	biNet, rows := decimal.Zero, 0
	for i := range tb.Rows {
		if tb.date(i, "cohort") != "2105-12-01" || tb.int(i, "k") != 0 {
			t.Errorf("realized_clv row %d: cohort %s k %d, want 2105-12-01, 0", i, tb.date(i, "cohort"), tb.int(i, "k"))
		}
		biNet = biNet.Add(tb.dec(i, "commissions"))
		rows++
	}
	if rows != 1 || !biNet.Equal(ledgerNet) {
		t.Errorf("realized_clv: %d rows, commissions %s; the ledger booked %s", rows, biNet, ledgerNet)
	}
}
