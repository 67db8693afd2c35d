package query_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/itest"
	"github.com/taskole/revshare/consumers/migrate"
	"github.com/taskole/revshare/consumers/query"
	"github.com/taskole/revshare/sql/migrations"
	"github.com/taskole/revshare/sql/queries"
)

// TestQueryPackMatchesReference generates a marketplace of a few thousand clients, writes
// it to the raw tables of a freshly migrated database as the sink would (re-deliveries,
// superseded owner records, shuffled order), runs every query of the pack and compares each
// result, row by row and cell by cell, with the reference computation in reference_test.go:
// money to the last decimal, counts to the client, ratios to 1e-9.
func TestQueryPackMatchesReference(t *testing.T) {
	addr := itest.ClickHouse(t)
	db := itest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := migrate.Up(ctx, migrate.Config{Addr: addr, Database: db}, migrations.FS()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	w := generate(42, 48, 3000)
	w.load(ctx, t, conn)
	r := newRef(w)
	t.Logf("generated %d clients, %d purchases, %d enrollments, %d feedback answers, %d spend events",
		len(w.clients), len(w.purchases), len(w.enrollments), len(w.feedback), len(w.spend))

	until := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2025, 9, 15, 12, 0, 0, 0, time.UTC)
	type tc struct {
		query  string
		params map[string]string
		keys   []string
		want   []row
	}
	var cases []tc
	for _, by := range []string{"platform", "owner", "sector", "cohort"} {
		p := map[string]string{"by": by, "until": day(until)}
		cases = append(cases,
			tc{"retention_clients", p, []string{"dim", "cohort", "k"}, r.retentionClients(by, until)},
			tc{"retention_value", p, []string{"dim", "cohort", "currency", "k"}, r.retentionValue(by, until)},
			tc{"realized_clv", p, []string{"dim", "cohort", "currency", "k"}, r.realizedCLV(by, until)},
			tc{"order_metrics", p, []string{"dim", "month", "currency"}, r.orderMetrics(by, until)},
			tc{"repeat_purchase_rate", p, []string{"dim", "month"}, r.repeatPurchaseRate(by, until)},
			tc{"churn_ltv", p, []string{"dim", "month", "currency"}, r.churnLTV(by, until)},
			tc{"lifecycle_counts", map[string]string{"by": by, "at": at.Format(time.DateTime)}, []string{"dim", "stage"}, r.lifecycleCounts(by, at)},
		)
	}
	cases = append(cases, tc{"lifecycle_stage", map[string]string{"at": at.Format(time.DateTime)}, []string{"client_id"}, r.lifecycleStage(at)})
	for _, by := range []string{"business", "sector", "platform"} {
		p := map[string]string{"by": by}
		cases = append(cases,
			tc{"nps_csat", p, []string{"dim", "month"}, r.npsCSAT(by)},
			tc{"rejected_claims", p, []string{"dim", "month"}, r.rejectedClaims(by)},
			tc{"cac_ltv", p, []string{"dim", "month", "currency"}, r.cacLTV(by)},
		)
	}
	// Filters narrow the same computation: one owner, one sector.
	owner := w.clients[0].owner
	cases = append(cases,
		tc{"realized_clv", map[string]string{"by": "owner", "owner": owner, "until": day(until)}, []string{"dim", "cohort", "currency", "k"},
			filter(r.realizedCLV("owner", until), "dim", owner)},
		tc{"churn_ltv", map[string]string{"by": "sector", "sector": "fitness", "until": day(until)}, []string{"dim", "month", "currency"},
			filter(r.churnLTV("sector", until), "dim", "fitness")},
		tc{"cac_ltv", map[string]string{"by": "sector", "sector": "yoga"}, []string{"dim", "month", "currency"},
			filter(r.cacLTV("sector"), "dim", "yoga")},
	)

	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.query] = true
		t.Run(c.query+"/"+paramString(c.params), func(t *testing.T) {
			q, err := queries.Lookup(c.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := query.Run(ctx, conn, q, c.params)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.want) == 0 {
				t.Fatal("the reference has no rows: the generated world does not exercise this query")
			}
			compare(t, got, c.keys, c.want)
		})
	}
	for _, q := range all {
		if !covered[q.Name] {
			t.Errorf("query %s has no reference computation in this test", q.Name)
		}
	}
}

func filter(rows []row, col, val string) []row {
	var out []row
	for _, r := range rows {
		if r[col] == val {
			out = append(out, r)
		}
	}
	return out
}

func paramString(p map[string]string) string {
	var parts []string
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func keyOf(get func(string) any, keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprint(get(k))
	}
	return strings.Join(parts, "|")
}

// compare checks that got holds exactly the rows of want (matched by the key columns) and
// that every column of every row equals the reference.
func compare(t *testing.T, got *query.Table, keys []string, want []row) {
	t.Helper()
	col := map[string]int{}
	for i, c := range got.Columns {
		col[c] = i
	}
	for c := range want[0] {
		if _, ok := col[c]; !ok {
			t.Fatalf("result has no column %s (has %v)", c, got.Columns)
		}
	}
	gotRows := map[string]int{}
	for i := range got.Rows {
		k := keyOf(func(c string) any { return normalize(got.Rows[i][col[c]], got.Types[col[c]]) }, keys)
		if _, dup := gotRows[k]; dup {
			t.Errorf("result has row %s twice", k)
		}
		gotRows[k] = i
	}
	if len(got.Rows) != len(want) {
		t.Errorf("result has %d rows, reference %d", len(got.Rows), len(want))
	}
	bad := 0
	for _, w := range want {
		k := keyOf(func(c string) any { return w[c] }, keys)
		i, ok := gotRows[k]
		if !ok {
			t.Errorf("result lacks row %s: want %v", k, w)
			bad++
		} else {
			for c, wv := range w {
				gv := normalize(got.Rows[i][col[c]], got.Types[col[c]])
				if !equal(gv, wv) {
					t.Errorf("row %s column %s = %v, reference %v", k, c, gv, wv)
					bad++
				}
			}
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
}

// normalize maps a scanned ClickHouse value to the reference's types.
func normalize(v any, typ string) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface(), typ)
	}
	switch x := v.(type) {
	case time.Time:
		if strings.Contains(typ, "DateTime") {
			return x.UTC().Format(time.DateTime)
		}
		return x.Format(time.DateOnly)
	case float32:
		return float64(x)
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint())
	}
	return v
}

func equal(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case decimal.Decimal:
		g, ok := got.(decimal.Decimal)
		return ok && g.Equal(w)
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	return got == want
}
