package e2e

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/querytest"
	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/consumers/tools/report"
	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/schemas"
)

const partitions = 3

// TestPipelineMatchesReference runs the analytics path end to end on the real servers and
// checks every query of the pack against the Go reference computed from the same events,
// the sunk ledger against the Engine's derivation, and the report against the pack.
func TestPipelineMatchesReference(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	brokers, topics, addr, db, conn := itest.Pipeline(ctx, t)
	windows := map[string]int{"fitness": 30, "nutrition": 90}
	insertWindows(ctx, t, conn, windows)

	// The marketplace, generated once for the reference and once for the broker (the
	// generator is deterministic).
	cfg := smallPreset(t)
	cfg.Seed = 20251
	events, g := simulated(t, cfg)
	stats := g.Stats()
	d, start, end := derivedRun(t, g, events, windows)
	t.Logf("simulated %d records (%d malformed, %d duplicates): %d clients with an owner, %d purchases, %d ledger entries, %d retention costs",
		stats.Records, stats.MalformedTotal(), stats.Duplicates, len(d.world.Clients), len(d.world.Purchases), len(d.commissions), len(d.world.Retention))
	inputs := map[schemas.Topic]schemas.Topic{
		schemas.TopicEnrollments: topics.Enrollments, schemas.TopicBookings: topics.Bookings,
		schemas.TopicBusinesses: topics.Businesses, schemas.TopicFeedback: topics.Feedback,
		schemas.TopicAcquisitionCosts: topics.AcquisitionCosts, schemas.TopicRetentionCosts: topics.RetentionCosts,
	}
	// The simulator's own account of its malformed records agrees with the decoders and
	// the Engine: one dead letter per refused record and consumer.
	for def := range inputs {
		if want := stats.DeadLetters(false, def); int64(d.sinkRefused[def]) != want {
			t.Errorf("%s: %d records do not decode, the simulator made %d malformed for a decoder", def, d.sinkRefused[def], want)
		}
	}
	for _, def := range []schemas.Topic{schemas.TopicEnrollments, schemas.TopicBookings, schemas.TopicBusinesses} {
		if want := stats.DeadLetters(true, def); int64(d.ledgerRefused[def]) != want {
			t.Errorf("%s: the Engine refuses %d records, the simulator made %d malformed for the ledger", def, d.ledgerRefused[def], want)
		}
	}

	var names []string
	for _, tp := range inputs {
		names = append(names, string(tp))
	}
	itest.CreateTopics(t, brokers, partitions, append(names, string(topics.Payouts))...)
	g2, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	produced, err := simulate.Produce(ctx, itest.Client(t, brokers), g2, simulate.ProduceOptions{Topics: topics})
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	if produced.Records != int64(len(events)) {
		t.Fatalf("produced %d records, generated %d", produced.Records, len(events))
	}

	// The ledger starts after everything is produced, so its rates table holds every
	// businesses event, as the derivation assumes.
	group := "e2e-" + itest.Unique(t)
	led := newLedger(t, brokers, topics, group, "ledger", partitions)
	snk := newSink(t, brokers, topics, group, "sink", addr, db, 0)
	egCtx, stop := itest.Start(ctx, t, "ledger and sink", led, snk)
	defer stop()

	adm := itest.Client(t, brokers)
	itest.WaitFor(egCtx, t, "the ledger to consume its inputs", func() (bool, string) {
		return itest.CaughtUp(egCtx, kadm.NewClient(adm), group+"-ledger", 0, string(topics.Enrollments), string(topics.Bookings))
	})
	owners := readCommitted(egCtx, t, brokers, string(topics.ReferralOwners))
	var comms []*kgo.Record
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Commissions)) {
		if _, marker := headerOf(r, schemas.MarkerHeader); !marker {
			comms = append(comms, r) // progress markers are no ledger entries (no sink row)
		}
	}
	// The ledger's dead letters (the sink writes its own refusals to the topic as well).
	var dlqs []*kgo.Record
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.DLQ)) {
		if !fromConsumer(r, "sink") {
			dlqs = append(dlqs, r)
		}
	}

	// The ledger's output agrees with the Engine's derivation on everything that does not
	// depend on how the ledger interleaves the enrollments and bookings topics (which decides
	// ids and how many intermediate owner records and correction entries there are): every
	// client's final owner, and the net per (owner, booking), checked below on the sunk rows.
	final := map[string]schemas.ReferralOwner{}
	for _, r := range owners {
		o, err := schemas.DecodeReferralOwner(r.Value)
		if err != nil {
			t.Fatalf("decoding referral owner: %v", err)
		}
		final[o.ClientID] = o // keyed by client: one partition, in order
	}
	if len(final) != len(d.world.Clients) {
		t.Errorf("the ledger named owners for %d clients, the Engine %d", len(final), len(d.world.Clients))
	}
	for _, c := range d.world.Clients {
		o := final[c.ID]
		if o.OwnerBusinessID != c.Owner || !sec(o.OwnedSince).Equal(c.OwnedSince) {
			t.Errorf("client %s: the ledger says owner %s since %s, the Engine %s since %s", c.ID, o.OwnerBusinessID, o.OwnedSince, c.Owner, c.OwnedSince)
		}
	}
	ledgerDLQ := 0
	for _, n := range d.ledgerRefused {
		ledgerDLQ += n
	}
	if len(dlqs) != ledgerDLQ {
		t.Errorf("dead-letter topic has %d records, the ledger must refuse %d", len(dlqs), ledgerDLQ)
	}

	// The sink has caught up when every raw table holds what it must: the input records
	// minus those it refused, and every committed output record.
	want := map[string]int{"referral_owners": len(owners), "commissions": len(comms), "dlq": len(dlqs)}
	d.wantRawTables(want)
	itest.WaitFor(egCtx, t, "the sink to store every record", func() (bool, string) {
		got := map[string]int{}
		for table := range want {
			var n uint64
			if err := conn.QueryRow(egCtx, "SELECT count() FROM "+table).Scan(&n); err != nil {
				return false, err.Error()
			}
			got[table] = int(n)
		}
		return reflect.DeepEqual(got, want), fmt.Sprintf("rows %v, want %v", got, want)
	})

	// The ledger's purchase facts, summed per booking, are the purchases view.
	if n := checkPurchaseFacts(egCtx, t, brokers, string(topics.PurchaseFacts), conn); n == 0 {
		t.Error("no purchases: the simulation does not exercise the purchase facts")
	}

	// The sunk ledger nets, per (owner, booking), to the Engine's derivation.
	rows, err := conn.Query(ctx, `SELECT owner_business_id, booking_id, sum(amount) FROM
(SELECT commission_id, any(owner_business_id) AS owner_business_id, any(booking_id) AS booking_id, any(amount) AS amount
 FROM commissions GROUP BY commission_id) GROUP BY owner_business_id, booking_id`)
	if err != nil {
		t.Fatal(err)
	}
	sunk := map[[2]string]decimal.Decimal{}
	for rows.Next() {
		var o, b string
		var v decimal.Decimal
		if err := rows.Scan(&o, &b, &v); err != nil {
			t.Fatal(err)
		}
		sunk[[2]string{o, b}] = v
	}
	rows.Close()
	nonzero := 0
	for k, v := range d.net {
		if !sunk[k].Equal(v) {
			t.Errorf("commissions of owner %s on booking %s net %s in ClickHouse, %s by the Engine", k[0], k[1], sunk[k], v)
		}
		if !v.IsZero() {
			nonzero++
		}
	}
	for k, v := range sunk {
		if _, ok := d.net[k]; !ok && !v.IsZero() {
			t.Errorf("commissions of owner %s on booking %s net %s in ClickHouse, nothing by the Engine", k[0], k[1], v)
		}
	}
	if nonzero == 0 {
		t.Error("no commissions: the simulation does not exercise the ledger")
	}

	// Every query of the pack equals the reference.
	until := end.AddDate(0, -1, 0)
	// dlq_counts is checked below by consumer and topic: the reasons are the consumers' labels.
	var cases []querytest.Case
	for _, c := range querytest.NewRef(&d.world).Cases(querytest.Options{
		Until: until, At: start.AddDate(0, 8, 14).Add(12 * time.Hour)}) {
		if c.Query != "dlq_counts" {
			cases = append(cases, c)
		}
	}
	// The prediction queries read client_predictions (`taskole predict`); consumers/runners/predict's
	// integration test checks them.
	querytest.Check(ctx, t, conn, cases, "dlq_counts", "predicted_clv", "at_risk_clients", "p_alive_distribution",
		"predicted_net_clv") // consumers/tools/query's reference test nets predictions; this pipeline runs no predict

	// Dead letters: per consumer and source topic, one per refused record.
	dl := run(ctx, t, conn, "dlq_counts", nil)
	gotDL := map[[2]string]int64{}
	for i := range dl.Rows {
		gotDL[[2]string{dl.str(i, "consumer"), dl.str(i, "source_topic")}] += dl.int(i, "dead_letters")
	}
	wantDL := map[[2]string]int64{}
	for def, tp := range inputs {
		if n := d.sinkRefused[def]; n > 0 {
			wantDL[[2]string{"sink", string(tp)}] = int64(n)
		}
		if n := d.ledgerRefused[def]; n > 0 {
			wantDL[[2]string{"ledger", string(tp)}] = int64(n)
		}
	}
	if !reflect.DeepEqual(gotDL, wantDL) {
		t.Errorf("dead letters per consumer and topic = %v, want %v", gotDL, wantDL)
	}

	checkReport(ctx, t, conn, until, dl)
}

// checkReport loads the report and checks its figures against the pack's rows.
func checkReport(ctx context.Context, t *testing.T, conn driver.Conn, until time.Time, dl *table) {
	t.Helper()
	data, err := report.Load(ctx, conn, report.Source{Until: until})
	if err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	p := map[string]string{"by": "platform", "until": until.Format(time.DateOnly)}

	ret := run(ctx, t, conn, "retention_clients", p)
	reportRows(t, ret, "retention cells", data.Retention, false,
		func(c report.RetentionCell) string { return fmt.Sprint(c.Cohort.Format(time.DateOnly), "+", c.Offset) },
		func(i int) string { return fmt.Sprint(ret.date(i, "cohort"), "+", ret.int(i, "k")) },
		func(k string, c report.RetentionCell, ok bool, i int) {
			if !ok || c.Size != ret.int(i, "cohort_clients") || c.Active != ret.int(i, "active_clients") {
				t.Errorf("retention cell %s: report %+v, pack %d of %d", k, c, ret.int(i, "active_clients"), ret.int(i, "cohort_clients"))
			}
		})

	churn := run(ctx, t, conn, "churn_ltv", p)
	reportRows(t, churn, "churn rows", data.Churn, false,
		func(c report.ChurnMonth) string { return monthCurrency(c.Month, c.Currency) }, churn.monthCurrency,
		func(k string, c report.ChurnMonth, _ bool, i int) {
			if c.ActiveAtStart != churn.int(i, "active_start") || c.Churned != churn.int(i, "churned") || !c.AMPU.Equal(churn.dec(i, "ampu")) {
				t.Errorf("churn %s: report %+v, pack active %d churned %d ampu %s", k, c,
					churn.int(i, "active_start"), churn.int(i, "churned"), churn.dec(i, "ampu"))
			}
		})

	// Gross vs net CLV and CRR: the report shows the pack's platform rows as they are.
	net := run(ctx, t, conn, "net_clv", p)
	reportRows(t, net, "net CLV rows", data.NetCLV, true,
		func(m report.CLVMonth) string { return monthCurrency(m.Month, m.Currency) }, net.monthCurrency,
		func(k string, m report.CLVMonth, _ bool, i int) {
			gross, _ := net.get(i, "gross_clv").(float64)
			netCLV, _ := net.get(i, "net_clv").(float64)
			if m.Gross.InexactFloat64() != gross || m.Net.InexactFloat64() != netCLV ||
				!m.AcquisitionPerClient.Equal(net.dec(i, "acquisition_cost_per_client")) || !m.RetentionPerClient.Equal(net.dec(i, "retention_cost_per_client")) {
				t.Errorf("net CLV %s: report %+v, pack gross %v net %v", k, m, gross, netCLV)
			}
		})
	crr := run(ctx, t, conn, "retention_rate", p)
	reportRows(t, crr, "CRR rows", data.CRR, true,
		func(r report.RetentionRate) string { return r.Month.Format(time.DateOnly) },
		func(i int) string { return crr.date(i, "month") },
		func(k string, r report.RetentionRate, _ bool, i int) {
			rate, ok := r.Rate()
			want, wantOK := crr.get(i, "retention_rate").(float64)
			if r.Start != crr.int(i, "active_start") || r.End != crr.int(i, "active_end") || r.New != crr.int(i, "new_active_end") ||
				ok != wantOK || math.Abs(rate-want) > 1e-12 {
				t.Errorf("CRR %s: report %+v (%v), pack %v", k, r, rate, crr.get(i, "retention_rate"))
			}
		})

	// Owners: the report's values are the last (cumulative) realized_clv row of each of the
	// owner's cohorts, summed.
	clv := run(ctx, t, conn, "realized_clv", map[string]string{"by": "owner", "until": p["until"]})
	type acc struct{ direct, elsewhere, comm decimal.Decimal }
	lastK := map[string]int64{}
	for i := range clv.Rows {
		k := clv.str(i, "dim") + "/" + clv.date(i, "cohort") + "/" + clv.str(i, "currency")
		lastK[k] = max(lastK[k], clv.int(i, "k"))
	}
	want := map[string]acc{}
	for i := range clv.Rows {
		k := clv.str(i, "dim") + "/" + clv.date(i, "cohort") + "/" + clv.str(i, "currency")
		if clv.int(i, "k") != lastK[k] {
			continue
		}
		ok := clv.str(i, "dim") + "/" + clv.str(i, "currency")
		a := want[ok]
		a.direct = a.direct.Add(clv.dec(i, "direct_value"))
		a.elsewhere = a.elsewhere.Add(clv.dec(i, "indirect_value"))
		a.comm = a.comm.Add(clv.dec(i, "commissions"))
		want[ok] = a
	}
	if len(data.Owners) != len(want) {
		t.Errorf("report has %d owner rows, the pack %d", len(data.Owners), len(want))
	}
	for _, o := range data.Owners {
		w := want[o.BusinessID+"/"+o.Currency]
		if !o.Direct.Equal(w.direct) || !o.Elsewhere.Equal(w.elsewhere) || !o.Commissions.Equal(w.comm) {
			t.Errorf("owner %s %s: report direct %s elsewhere %s commissions %s, pack %s %s %s", o.BusinessID, o.Currency,
				o.Direct, o.Elsewhere, o.Commissions, w.direct, w.elsewhere, w.comm)
		}
	}

	if len(data.DLQ) != len(dl.Rows) {
		t.Errorf("report has %d dead-letter rows, the pack %d", len(data.DLQ), len(dl.Rows))
	}
	for i := range min(len(data.DLQ), len(dl.Rows)) {
		x := data.DLQ[i]
		if x.Consumer != dl.str(i, "consumer") || x.Topic != dl.str(i, "source_topic") || x.Reason != dl.str(i, "reason") || x.Count != dl.int(i, "dead_letters") {
			t.Errorf("dead letters row %d: report %+v, pack %v", i, x, dl.Rows[i])
		}
	}
}

// reportRows checks the report's rows (keyed by key) against the rows of pack (keyed by
// packKey): the same number (and, with nonEmpty, at least one), and check for every pack row i
// with the report's row of its key (ok false, v zero when the report has none).
func reportRows[T any](t *testing.T, pack *table, noun string, rows []T, nonEmpty bool, key func(T) string,
	packKey func(i int) string, check func(k string, v T, ok bool, i int)) {
	t.Helper()
	if len(rows) != len(pack.Rows) || (nonEmpty && len(pack.Rows) == 0) {
		t.Errorf("report has %d %s, the pack %d", len(rows), noun, len(pack.Rows))
	}
	by := map[string]T{}
	for _, v := range rows {
		by[key(v)] = v
	}
	for i := range pack.Rows {
		k := packKey(i)
		v, ok := by[k]
		check(k, v, ok, i)
	}
}

// monthCurrency is the key of a monthly row of a currency: 2025-01-01/EUR.
func monthCurrency(month time.Time, currency string) string {
	return month.Format(time.DateOnly) + "/" + currency
}

// monthCurrency is the monthCurrency of row i (columns month and currency).
func (tb *table) monthCurrency(i int) string {
	return tb.date(i, "month") + "/" + tb.str(i, "currency")
}

// table reads a query result by column name.
type table struct {
	*query.Table
	col map[string]int
}

func run(ctx context.Context, t *testing.T, conn driver.Conn, name string, params map[string]string) *table {
	t.Helper()
	res := querytest.Run(ctx, t, conn, name, params)
	tb := &table{Table: res, col: map[string]int{}}
	for i, c := range res.Columns {
		tb.col[c] = i
	}
	return tb
}

func (tb *table) get(i int, col string) any {
	j, ok := tb.col[col]
	if !ok {
		panic("no column " + col)
	}
	v := reflect.ValueOf(tb.Rows[i][j])
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		return v.Elem().Interface()
	}
	return tb.Rows[i][j]
}

func (tb *table) str(i int, col string) string { s, _ := tb.get(i, col).(string); return s }
func (tb *table) dec(i int, col string) decimal.Decimal {
	d, _ := tb.get(i, col).(decimal.Decimal)
	return d
}
func (tb *table) date(i int, col string) string {
	d, _ := tb.get(i, col).(time.Time)
	return d.UTC().Format(time.DateOnly)
}
func (tb *table) int(i int, col string) int64 {
	v := reflect.ValueOf(tb.get(i, col))
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	}
	panic(fmt.Sprintf("column %s is %v", col, v.Kind()))
}

// readCommitted reads every committed record of topic, up to its current end.
func readCommitted(ctx context.Context, t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	return itest.ReadCommitted(ctx, t, brokers, topic, itest.HighWatermark)
}

// fromConsumer reports whether the dead letter r was written by consumer (its header).
func fromConsumer(r *kgo.Record, consumer string) bool {
	v, ok := headerOf(r, stream.DeadLetterConsumerHeader)
	return ok && string(v) == consumer
}

// headerOf returns the value of r's header key, and whether r has it.
func headerOf(r *kgo.Record, key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}
