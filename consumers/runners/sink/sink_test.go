package sink

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
)

func TestDecimalSpec(t *testing.T) {
	tests := []struct {
		in   string
		spec decimalSpec
		ok   bool
	}{
		{"0", money, true},
		{"49.90", money, true},
		{"0.0001", money, true},
		{"0.00001", money, false},
		{"1.50000", money, true}, // trailing zeros fit
		{"-12.3456", money, true},
		{"99999999999999.9999", money, true},
		{"100000000000000", money, false},
		{"-100000000000000", money, false},
		{"1e14", money, false},
		{"1e13", money, true},
		{"0.0700000000", rate, true},
		{"0.07000000001", rate, false},
		{"0.12345678901", rate, false},
		{"1", rate, true},
	}
	for _, tt := range tests {
		d := decimal.RequireFromString(tt.in)
		if why := tt.spec.check(d); (why == "") != tt.ok {
			t.Errorf("check(%s, scale %d) = %q, want ok=%v", tt.in, tt.spec.scale, why, tt.ok)
		}
	}
}

func TestCheckTime(t *testing.T) {
	for _, tt := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Unix(0, 0), true},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), true},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), false},
		// After DateTime's end: stored, clamped, exact in the _unix companion (SPEC R8).
		{time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2199, 12, 31, 23, 59, 59, 0, time.UTC), true},
	} {
		if why := checkTime(tt.t); (why == "") != tt.ok {
			t.Errorf("checkTime(%v) = %q, want ok=%v", tt.t, why, tt.ok)
		}
	}
}

// TestClampDateTimes pins the far-future storage rule: the DateTime column saturates at
// 2105-12-31 23:59:59 UTC (the last second of ClickHouse 18.16's calendar), the _unix companion keeps the exact seconds, and the buffer the
// companion reads is not changed by the clamp.
func TestClampDateTimes(t *testing.T) {
	far := time.Date(2150, 6, 1, 12, 0, 0, 0, time.UTC)
	end := time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tt := range []struct {
		name string
		in   []time.Time
		want []time.Time
	}{
		{"none", []time.Time{time.Unix(10, 0)}, []time.Time{time.Unix(10, 0)}},
		{"the ceiling itself", []time.Time{end}, []time.Time{end}},
		{"DateTime's last second", []time.Time{time.Unix(math.MaxUint32, 0)}, []time.Time{end}},
		{"2150", []time.Time{time.Unix(10, 0), far}, []time.Time{time.Unix(10, 0), end}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := clampDateTimes(in)
			if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("clamped %v, want %v", got, tt.want)
			}
			if !slices.EqualFunc(in, tt.in, time.Time.Equal) {
				t.Errorf("the source buffer changed: %v", in)
			}
		})
	}
	cols := withUnix([]namedCol{{"occurred_at", &timeCol{}}, {"_inserted_at", &timeCol{}}, {"amount", &decCol{}}})
	var names []string
	for _, c := range cols {
		names = append(names, c.name)
	}
	if want := []string{"occurred_at", "occurred_at_unix", "_inserted_at", "amount"}; !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
}

// testEnv is a migrated database and created topics.
type testEnv struct {
	brokers []string
	chAddr  string
	db      string
	topics  schemas.Topics
	conn    driver.Conn
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	return newEnvOn(t, itest.Kafka(t), itest.ClickHouse(t), itest.Database(t))
}

// newEnvOn is newEnv on the given brokers and server (a private one for kill tests).
func newEnvOn(t testing.TB, brokers []string, chAddr, db string) *testEnv {
	t.Helper()
	e := &testEnv{brokers: brokers, chAddr: chAddr, db: db, topics: itest.Topics(t)}
	if _, err := migrate.Up(context.Background(), migrate.Config{Addr: e.chAddr, Database: e.db}, migrations.FS()); err != nil {
		t.Fatal(err)
	}
	e.createTopics(t)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{e.chAddr}, Auth: clickhouse.Auth{Database: e.db}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.conn = conn
	return e
}

// createTopics creates every topic the sink copies, with 3 partitions.
func (e *testEnv) createTopics(t testing.TB) {
	t.Helper()
	tp := e.topics
	itest.CreateTopics(t, e.brokers, 3, string(tp.Bookings), string(tp.Enrollments), string(tp.Businesses),
		string(tp.Feedback), string(tp.AcquisitionCosts), string(tp.ReferralOwners), string(tp.Commissions),
		string(tp.Payouts), string(tp.DLQ), string(tp.RetentionCosts), string(tp.PurchaseFacts))
}

// produce writes records with a transactional producer, as the pipeline does.
func (e *testEnv) produce(t testing.TB, recs []*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.TransactionalID(itest.Unique(t)),
		kgo.DefaultProduceTopic(string(e.topics.Bookings)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for i := 0; i < len(recs); i += 5000 {
		end := min(i+5000, len(recs))
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, recs[i:end]...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *testEnv) count(t testing.TB, q string) uint64 {
	t.Helper()
	return itest.Count(context.Background(), t, e.conn, q)
}

// dataset is a generated set of records and the facts the raw tables must show.
type dataset struct {
	recs      []*kgo.Record
	rows      map[string]uint64 // per raw table
	amountSum decimal.Decimal   // bookings.amount
	dead      uint64            // dlq rows written by the sink
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)

func generate(tp schemas.Topics, seed string, n int) dataset {
	d := dataset{rows: map[string]uint64{}}
	add := func(topic schemas.Topic, key string, v []byte, table string) {
		d.recs = append(d.recs, &kgo.Record{Topic: string(topic), Key: []byte(key), Value: v})
		if table != "" {
			d.rows[table]++
		}
	}
	for i := 0; i < n; i++ {
		c := fmt.Sprintf("%s-c%d", seed, i%97)
		amt := decimal.New(int64(1000+i), -2)
		b := schemas.Booking{EventID: fmt.Sprintf("%s-e%d", seed, i), BookingID: fmt.Sprintf("%s-b%d", seed, i),
			ClientID: c, BusinessID: fmt.Sprintf("biz%d", i%7), Status: schemas.StatusCompleted, Amount: amt,
			Currency: "EUR", Category: "spa", OccurredAt: t0.Add(time.Duration(i) * time.Minute)}
		add(tp.Bookings, c, schemas.AppendBooking(nil, b), "bookings")
		d.amountSum = d.amountSum.Add(amt)
		if i%5 == 0 {
			add(tp.Enrollments, c, schemas.AppendEnrollment(nil, schemas.Enrollment{EventID: fmt.Sprintf("%s-en%d", seed, i),
				ClientID: c, BusinessID: "biz1", Source: "qr", OccurredAt: t0}), "enrollments")
			add(tp.Feedback, c, schemas.AppendFeedback(nil, schemas.Feedback{EventID: fmt.Sprintf("%s-f%d", seed, i),
				ClientID: c, BusinessID: "biz2", Kind: schemas.FeedbackNPS, Score: i % 11, OccurredAt: t0}), "feedback")
			add(tp.ReferralOwners, c, schemas.AppendReferralOwner(nil, schemas.ReferralOwner{ClientID: c, OwnerBusinessID: "biz1",
				OwnedSince: t0, Source: schemas.OwnerByEnrollment, EventID: fmt.Sprintf("%s-en%d", seed, i)}), "referral_owners")
			add(tp.Commissions, "biz1", schemas.AppendCommission(nil, schemas.Commission{CommissionID: fmt.Sprintf("%s-cm%d", seed, i),
				Kind: schemas.Accrual, Reason: schemas.ReasonCompleted, OwnerBusinessID: "biz1", ProviderBusinessID: "biz3",
				ClientID: c, BookingID: b.BookingID, BookingAmount: amt, Rate: decimal.RequireFromString("0.07"),
				Amount: amt.Mul(decimal.RequireFromString("0.07")).RoundBank(2), Currency: "EUR", OccurredAt: t0,
				PayableAt: t0.AddDate(0, 0, 14), SourceEventID: b.EventID}), "commissions")
		}
		if i%50 == 0 {
			add(tp.Businesses, "biz1", schemas.AppendBusiness(nil, schemas.Business{EventID: fmt.Sprintf("%s-bz%d", seed, i),
				BusinessID: "biz1", Name: "Salon \"Üks\"", Sector: "beauty", ReferralRate: decimal.RequireFromString("0.07"), OccurredAt: t0}), "businesses")
			add(tp.AcquisitionCosts, "biz1", schemas.AppendAcquisitionCost(nil, schemas.AcquisitionCost{EventID: fmt.Sprintf("%s-ac%d", seed, i),
				BusinessID: "biz1", Amount: decimal.RequireFromString("120.50"), Currency: "EUR", Channel: "ads", OccurredAt: t0}), "acquisition_costs")
			add(tp.RetentionCosts, "biz1", schemas.AppendRetentionCost(nil, schemas.RetentionCost{EventID: fmt.Sprintf("%s-rc%d", seed, i),
				BusinessID: "biz1", ClientID: c, Amount: decimal.RequireFromString("4.99"), Currency: "EUR",
				Kind: schemas.RetentionLoyaltyDiscount, OccurredAt: t0}), "retention_costs")
			add(tp.Payouts, "biz1", schemas.AppendPayout(nil, schemas.Payout{PayoutID: fmt.Sprintf("%s-p%d", seed, i), OwnerBusinessID: "biz1",
				Currency: "EUR", PeriodStart: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
				OpeningBalance: decimal.Zero, Accrued: decimal.RequireFromString("30.10"), Reversed: decimal.RequireFromString("-1.05"),
				Net: decimal.RequireFromString("29.05"), Payable: decimal.RequireFromString("29.05"), CarriedForward: decimal.Zero,
				CommissionCount: 2, CommissionIDs: []string{"a", "b"}}), "payouts")
			add(tp.DLQ, "k", schemas.AppendDeadLetter(nil, schemas.DeadLetter{Topic: "taskole.bookings.v1", Partition: 1, Offset: int64(i),
				Key: []byte("k"), Value: []byte("{bad"), Error: "field \"x\": bad", Consumer: "ledger", FailedAt: t0}), "dlq")
		}
		if i%100 == 7 { // malformed records on several topics
			add(tp.Bookings, c, []byte(`{"event_id": "x"`), "dlq")
			add(tp.Feedback, c, []byte(`{"event_id":"f","client_id":"c","business_id":"b","kind":"nps","score":42,"occurred_at":"2026-01-01T00:00:00Z"}`), "dlq")
			add(tp.RetentionCosts, "biz1", []byte(`{"event_id":"r","business_id":"biz1","amount":"1.00","currency":"EUR","kind":"warranty","occurred_at":"2026-01-01T00:00:00Z"}`), "dlq")
			d.dead += 3
		}
	}
	return d
}

func (d *dataset) merge(o dataset) {
	d.recs = append(d.recs, o.recs...)
	for k, v := range o.rows {
		d.rows[k] += v
	}
	d.amountSum = d.amountSum.Add(o.amountSum)
	d.dead += o.dead
}

var rawTables = []string{"bookings", "enrollments", "businesses", "feedback", "acquisition_costs",
	"retention_costs", "referral_owners", "commissions", "payouts", "dlq", "purchase_facts"}

// waitFor polls until every raw table holds the expected number of rows (or fails).
func (e *testEnv) waitFor(t *testing.T, d dataset, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var diff []string
		for _, tb := range rawTables {
			if got := e.count(t, "SELECT count() FROM "+tb); got != d.rows[tb] {
				diff = append(diff, fmt.Sprintf("%s %d/%d", tb, got, d.rows[tb]))
			}
		}
		if len(diff) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("raw tables did not reach the produced counts: %s", strings.Join(diff, ", "))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// verify checks exact values: no duplicate, no loss, sums to the cent.
func (e *testEnv) verify(t *testing.T, d dataset) {
	t.Helper()
	for _, tb := range rawTables {
		n := e.count(t, "SELECT count() FROM "+tb)
		u := e.count(t, "SELECT uniqExact(_topic, _partition, _offset) FROM "+tb)
		if n != d.rows[tb] || u != n {
			t.Errorf("%s: %d rows, %d distinct records; want %d", tb, n, u, d.rows[tb])
		}
	}
	var sum string
	if err := e.conn.QueryRow(context.Background(), "SELECT toString(sum(amount)) FROM bookings").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if !decimal.RequireFromString(sum).Equal(d.amountSum) {
		t.Errorf("sum(bookings.amount) = %s, want %s", sum, d.amountSum)
	}
	if got := e.count(t, "SELECT count() FROM dlq WHERE consumer = 'sink'"); got != d.dead {
		t.Errorf("dlq rows from the sink = %d, want %d", got, d.dead)
	}
	if got := e.count(t, "SELECT count() FROM dlq WHERE consumer = 'sink' AND error_label = 'score:invalid' AND position(error, 'score') > 0"); got != d.dead/3 {
		t.Errorf("dlq rows labelled score:invalid = %d, want %d", got, d.dead/3)
	}
	if got := e.count(t, "SELECT count() FROM dlq WHERE consumer = 'sink' AND error_label = 'kind:invalid' AND source_topic = '"+string(e.topics.RetentionCosts)+"'"); got != d.dead/3 {
		t.Errorf("retention-costs dlq rows labelled kind:invalid = %d, want %d", got, d.dead/3)
	}
	var rcSum string
	if err := e.conn.QueryRow(context.Background(), "SELECT toString(sum(amount)) FROM retention_costs WHERE kind = 'loyalty_discount' AND client_id != ''").Scan(&rcSum); err != nil {
		t.Fatal(err)
	}
	if want := decimal.RequireFromString("4.99").Mul(decimal.NewFromInt(int64(d.rows["retention_costs"]))); !decimal.RequireFromString(rcSum).Equal(want) {
		t.Errorf("sum(retention_costs.amount) = %s, want %s", rcSum, want)
	}
	// One row read back field by field.
	var (
		status, cur, cat, ev string
		amt                  string
		at                   time.Time
		ns                   uint32
	)
	row := e.conn.QueryRow(context.Background(), "SELECT toString(status), currency, category, event_id, toString(amount), occurred_at, occurred_at_ns FROM bookings WHERE booking_id = 'a-b3'")
	if err := row.Scan(&status, &cur, &cat, &ev, &amt, &at, &ns); err != nil {
		t.Fatal(err)
	}
	want := t0.Add(3 * time.Minute)
	if status != "completed" || cur != "EUR" || cat != "spa" || ev != "a-e3" || !decimal.RequireFromString(amt).Equal(decimal.RequireFromString("10.03")) || at.Unix() != want.Unix() || ns != uint32(want.Nanosecond()) {
		t.Errorf("booking a-b3 = %s %s %s %s %s %v %d", status, cur, cat, ev, amt, at, ns)
	}
	var ids []string
	if err := e.conn.QueryRow(context.Background(), "SELECT commission_ids FROM payouts LIMIT 1").Scan(&ids); err != nil || strings.Join(ids, ",") != "a,b" {
		t.Errorf("payouts.commission_ids = %v, %v", ids, err)
	}
	var rate string
	if err := e.conn.QueryRow(context.Background(), "SELECT toString(rate) FROM commissions LIMIT 1").Scan(&rate); err != nil || rate != "0.0700000000" {
		t.Errorf("commissions.rate = %q, %v", rate, err)
	}
	e.verifyRollups(t)
}

func runSink(t *testing.T, e *testEnv, group string) (stop func()) {
	t.Helper()
	s, err := New(Config{Brokers: e.brokers, Topics: e.topics, Group: group, ClickHouseAddr: e.chAddr,
		Database: e.db, BatchRows: 700, BatchInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, stop = itest.Start(context.Background(), t, "the sink", s)
	return stop
}

func TestSinkIntegration(t *testing.T) {
	e := newEnv(t)
	group := "g-" + itest.Unique(t)

	all := generate(e.topics, "a", 2000)
	e.produce(t, all.recs)
	stop := runSink(t, e, group)
	e.waitFor(t, all, 60*time.Second)
	stop()
	e.verify(t, all)

	// A second run resumes from ClickHouse: more data, nothing doubled. A new group name
	// proves the resume point comes from ClickHouse, not from committed group offsets.
	more := generate(e.topics, "b", 500)
	e.produce(t, more.recs)
	all.merge(more)
	stop = runSink(t, e, group+"-other")
	e.waitFor(t, all, 60*time.Second)
	time.Sleep(time.Second) // give a wrong re-insert the chance to show
	stop()
	e.verify(t, all)
}
