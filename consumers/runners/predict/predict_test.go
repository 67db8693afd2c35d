package predict

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/runners/sink"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/consumers/tools/report"
	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/pipelines/clv"
	"github.com/taskole/revshare/sql/queries"
)

// TestPredictOnThePipeline runs simulate → ledger → sink → predict on the real servers, twice
// for one date, and checks the tables, that the SQL summaries equal the Go summaries of the
// same purchases, and that the query pack answers over them.
func TestPredictOnThePipeline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	brokers, topics, addr, db, conn := itest.Pipeline(ctx, t)

	cfg, err := simulate.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 17
	itest.CreateTopics(t, brokers, 3, string(topics.Enrollments), string(topics.Bookings), string(topics.Businesses),
		string(topics.Feedback), string(topics.AcquisitionCosts), string(topics.RetentionCosts), string(topics.Payouts))
	g, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pcl := itest.Client(t, brokers)
	if _, err := simulate.Produce(ctx, pcl, g, simulate.ProduceOptions{Topics: topics}); err != nil {
		t.Fatalf("producing: %v", err)
	}

	quiet := slog.New(slog.DiscardHandler)
	group := "predict-" + itest.Unique(t)
	led, err := ledger.New(ledger.Config{Brokers: brokers, Topics: topics, Group: group + "-ledger", Partitions: 3,
		CommitInterval: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	snk, err := sink.New(sink.Config{Brokers: brokers, Topics: topics, Group: group + "-sink", ClickHouseAddr: addr,
		Database: db, BatchInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	egCtx, stop := itest.Start(ctx, t, "ledger and sink", led, snk)
	defer stop()
	ka := kadm.NewClient(itest.Client(t, brokers))
	itest.WaitFor(egCtx, t, "the ledger", func() (bool, string) {
		return itest.CaughtUp(egCtx, ka, group+"-ledger", 0, string(topics.Enrollments), string(topics.Bookings))
	})
	itest.WaitFor(egCtx, t, "the sink on the inputs", func() (bool, string) {
		return itest.CaughtUp(egCtx, ka, group+"-sink", 0, string(topics.Bookings), string(topics.Businesses))
	})
	// The ledger's outputs end with a transaction's commit marker, which the sink never
	// commits past: one offset of slack per partition, once the ledger has finished.
	itest.WaitFor(egCtx, t, "the sink on the ledger's outputs", func() (bool, string) {
		return itest.CaughtUp(egCtx, ka, group+"-sink", 1, string(topics.ReferralOwners), string(topics.Commissions))
	})

	var progress strings.Builder
	pcfg := Config{Logger: quiet, Progress: &progress, MinRepeatClients: 30}
	res, err := Run(ctx, conn, pcfg)
	if err != nil {
		t.Fatalf("predicting: %v", err)
	}
	t.Logf("as of %s: %d predictions, %d fits, fallbacks %v\n%s", res.AsOf.Format(time.DateOnly), res.Predictions, res.Fits, res.Fallbacks, progress.String())
	if !strings.Contains(progress.String(), "scored") {
		t.Errorf("no progress shown: %q", progress.String())
	}
	// The default as-of day is the latest purchase day, not the clock.
	var latest time.Time
	if err := conn.QueryRow(ctx, "SELECT max(toDate(completed_at)) FROM purchases").Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if !res.AsOf.Equal(latest) {
		t.Errorf("as of %s, latest purchase day %s", res.AsOf, latest)
	}
	// Again for the same day: the same rows, not twice as many.
	pcfg.AsOf = res.AsOf
	res2, err := Run(ctx, conn, pcfg)
	if err != nil {
		t.Fatalf("predicting again: %v", err)
	}
	counts := func() (uint64, uint64, uint64) {
		var p, f, accts uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM client_predictions").Scan(&p); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT count() FROM clv_fits").Scan(&f); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT uniqExact(client_id, currency) FROM purchases").Scan(&accts); err != nil {
			t.Fatal(err)
		}
		return p, f, accts
	}
	p, f, accts := counts()
	if p != accts || int(p) != res2.Predictions || int(f) != res2.Fits || res2.Predictions != res.Predictions {
		t.Errorf("after two runs: %d predictions, %d fits (runs said %d/%d and %d/%d), %d accounts with purchases",
			p, f, res.Predictions, res.Fits, res2.Predictions, res2.Fits, accts)
	}
	var platformFits uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM clv_fits WHERE model = 'bgnbd' AND scope = 'platform' AND fallback = 0 AND log_likelihood < 0 AND p1 > 0").Scan(&platformFits); err != nil || platformFits != 1 {
		t.Errorf("platform BG/NBD fit rows: %d (%v)", platformFits, err)
	}
	checkSummaries(ctx, t, conn, res.AsOf)

	for _, c := range []struct {
		name   string
		params map[string]string
	}{
		{"predicted_clv", map[string]string{"as_of": res.AsOf.Format(time.DateOnly), "by": "cohort"}},
		{"predicted_clv", map[string]string{"as_of": res.AsOf.Format(time.DateOnly), "by": "sector"}},
		{"predicted_clv", map[string]string{"as_of": res.AsOf.Format(time.DateOnly)}},
		{"at_risk_clients", map[string]string{"as_of": res.AsOf.Format(time.DateOnly)}},
	} {
		q, err := queries.Lookup(c.name)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := query.Run(ctx, conn, q, c.params)
		if err != nil {
			t.Fatalf("%s %v: %v", c.name, c.params, err)
		}
		if len(tb.Rows) == 0 {
			t.Errorf("%s %v: no rows", c.name, c.params)
		}
	}
	checkReportPanel(ctx, t, conn, res.AsOf)
	checkQueriesAgainstTable(ctx, t, conn, res.AsOf)

	// Platform totals of the query equal the table's.
	q, _ := queries.Lookup("predicted_clv")
	tb, err := query.Run(ctx, conn, q, map[string]string{"as_of": res.AsOf.Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.Rows {
		cur := tb.Format(i, 1)
		var want decimal.Decimal
		if err := conn.QueryRow(ctx, "SELECT sum(predicted_clv) FROM client_predictions WHERE currency = ?", cur).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := tb.Format(i, 8); got != want.StringFixed(4) {
			t.Errorf("%s: predicted_clv %s, table sum %s", cur, got, want.StringFixed(4))
		}
	}
}

// checkQueriesAgainstTable recomputes predicted_clv (by cohort), p_alive_distribution and
// at_risk_clients in Go from the client_predictions rows and compares them with the queries.
func checkQueriesAgainstTable(ctx context.Context, t *testing.T, conn driver.Conn, asOf time.Time) {
	t.Helper()
	type pred struct {
		client, currency, cohort string
		pAlive                   float64
		realized, clv            decimal.Decimal
	}
	rows, err := conn.Query(ctx, "SELECT client_id, currency, toString(cohort), p_alive, realized_value, predicted_clv FROM client_predictions WHERE as_of = toDate(?)", asOf.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	var ps []pred
	for rows.Next() {
		var p pred
		if err := rows.Scan(&p.client, &p.currency, &p.cohort, &p.pAlive, &p.realized, &p.clv); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	run := func(name string, params map[string]string) *query.Table {
		q, err := queries.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		params["as_of"] = asOf.Format(time.DateOnly)
		tb, err := query.Run(ctx, conn, q, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return tb
	}
	col := func(tb *query.Table, name string) int {
		for i, c := range tb.Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, tb.Columns)
		return -1
	}

	// predicted_clv by cohort.
	type agg struct {
		n              int
		realized, pred decimal.Decimal
	}
	want := map[string]*agg{}
	for _, p := range ps {
		k := p.cohort + "/" + p.currency
		if want[k] == nil {
			want[k] = &agg{}
		}
		a := want[k]
		a.n++
		a.realized, a.pred = a.realized.Add(p.realized), a.pred.Add(p.clv)
	}
	tb := run("predicted_clv", map[string]string{"by": "cohort"})
	if len(tb.Rows) != len(want) {
		t.Errorf("predicted_clv by cohort: %d rows, want %d", len(tb.Rows), len(want))
	}
	for i := range tb.Rows {
		k := tb.Format(i, col(tb, "dim")) + "/" + tb.Format(i, col(tb, "currency"))
		a := want[k]
		if a == nil || tb.Format(i, col(tb, "clients")) != fmt.Sprint(a.n) ||
			tb.Format(i, col(tb, "realized_value")) != a.realized.StringFixed(4) || tb.Format(i, col(tb, "predicted_clv")) != a.pred.StringFixed(4) {
			t.Errorf("predicted_clv %s: clients %s realized %s predicted %s, want %+v", k, tb.Format(i, col(tb, "clients")),
				tb.Format(i, col(tb, "realized_value")), tb.Format(i, col(tb, "predicted_clv")), a)
		}
	}

	// p_alive_distribution.
	var bins [10]int
	for _, p := range ps {
		bins[min(9, int(p.pAlive*10))]++
	}
	tb = run("p_alive_distribution", map[string]string{})
	got := [10]int{}
	for i := range tb.Rows {
		var b, n int
		fmt.Sscan(tb.Format(i, col(tb, "bin")), &b)
		fmt.Sscan(tb.Format(i, col(tb, "clients")), &n)
		got[b] = n
	}
	if got != bins {
		t.Errorf("p_alive_distribution %v, want %v", got, bins)
	}

	// at_risk_clients: realized value ≥ the nearest-rank 0.75 quantile of the currency and
	// P(alive) < 0.5.
	byCur := map[string][]float64{}
	for _, p := range ps {
		byCur[p.currency] = append(byCur[p.currency], p.realized.InexactFloat64())
	}
	thr := map[string]float64{}
	for cur, vs := range byCur {
		slices.Sort(vs)
		thr[cur] = vs[max(1, int(math.Ceil(float64(len(vs))*0.75)))-1]
	}
	wantRisk := map[string]bool{}
	for _, p := range ps {
		if p.realized.InexactFloat64() >= thr[p.currency] && p.pAlive < 0.5 {
			wantRisk[p.client+"/"+p.currency] = true
		}
	}
	tb = run("at_risk_clients", map[string]string{})
	gotRisk := map[string]bool{}
	for i := range tb.Rows {
		gotRisk[tb.Format(i, col(tb, "client_id"))+"/"+tb.Format(i, col(tb, "currency"))] = true
	}
	if len(wantRisk) == 0 || !maps.Equal(gotRisk, wantRisk) {
		t.Errorf("at_risk_clients: %d accounts, want %d", len(gotRisk), len(wantRisk))
	}
	t.Logf("at risk: %d of %d accounts", len(wantRisk), len(ps))
}

// checkReportPanel loads the report from the database, renders it, opens it in headless
// Chromium and checks the predicted-CLV panel is in the browser's DOM and the screenshot is an
// image.
func checkReportPanel(ctx context.Context, t *testing.T, conn driver.Conn, asOf time.Time) {
	t.Helper()
	data, err := report.Load(ctx, conn, report.Source{})
	if err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	if data.Predicted == nil || !data.Predicted.AsOf.Equal(asOf) || len(data.Predicted.Cohorts) == 0 {
		t.Fatalf("report has no predictions as of %s: %+v", asOf, data.Predicted)
	}
	var accounts int64
	for _, n := range data.Predicted.PAlive {
		accounts += n
	}
	var want uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM client_predictions WHERE as_of = toDate(?)", asOf.Format(time.DateOnly)).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if uint64(accounts) != want {
		t.Errorf("P(alive) histogram holds %d accounts, the table %d", accounts, want)
	}
	bin := itest.Chromium()
	if bin == "" {
		t.Fatal("chromium not installed (apt-get install -y chromium)")
	}
	var buf bytes.Buffer
	if err := report.HTML(&buf, data); err != nil {
		t.Fatal(err)
	}
	png, dom := itest.Browse(ctx, t, bin, buf.Bytes(), "1280,4000")
	if len(png) < 20_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes", len(png))
	}
	for _, w := range []string{`id="predicted-clv"`, `class="chart predicted-chart"`, `class="chart palive-chart"`,
		`<rect class="bar bar-predicted"`, `<rect class="bar bar-palive"`} {
		if !strings.Contains(dom, w) {
			t.Errorf("browser DOM lacks %s", w)
		}
	}
	t.Logf("report screenshot %d bytes", len(png))
}

// checkSummaries recomputes every account's summary with clv.Summarize from the purchases view
// and compares it with what predict stored.
func checkSummaries(ctx context.Context, t *testing.T, conn driver.Conn, asOf time.Time) {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT client_id, currency, completed_at, net_value FROM purchases")
	if err != nil {
		t.Fatal(err)
	}
	ps := map[[2]string][]clv.Purchase{}
	for rows.Next() {
		var c, cur string
		var at time.Time
		var v decimal.Decimal
		if err := rows.Scan(&c, &cur, &at, &v); err != nil {
			t.Fatal(err)
		}
		ps[[2]string{c, cur}] = append(ps[[2]string{c, cur}], clv.Purchase{At: at, Value: v})
	}
	rows.Close()
	got, err := conn.Query(ctx, "SELECT client_id, currency, x, t_x, age, realized_value, p_alive, predicted_clv, predicted_direct + predicted_indirect FROM client_predictions")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	n, bad := 0, 0
	for got.Next() {
		var c, cur string
		var x uint32
		var tx, age, pAlive float64
		var realized, total, split decimal.Decimal
		if err := got.Scan(&c, &cur, &x, &tx, &age, &realized, &pAlive, &total, &split); err != nil {
			t.Fatal(err)
		}
		n++
		s, ok := clv.Summarize(ps[[2]string{c, cur}], asOf)
		var sum decimal.Decimal
		for _, p := range ps[[2]string{c, cur}] {
			sum = sum.Add(p.Value)
		}
		if !ok || s.X != int(x) || fmt.Sprintf("%.9f", s.Tx) != fmt.Sprintf("%.9f", tx) || fmt.Sprintf("%.9f", s.T) != fmt.Sprintf("%.9f", age) ||
			!sum.Equal(realized) || !(pAlive >= 0 && pAlive <= 1) || !total.Equal(split) || total.IsNegative() {
			bad++
			if bad < 5 {
				t.Errorf("%s %s: stored x=%d t_x=%v T=%v value %s p_alive %v clv %s (split %s); Go summary %+v value %s",
					c, cur, x, tx, age, realized, pAlive, total, split, s, sum)
			}
		}
	}
	if n == 0 || bad > 0 {
		t.Errorf("%d of %d stored summaries differ from the Go summaries", bad, n)
	}
}
