package querytest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/sql/queries"
)

// Case is one run of a query of the pack with its parameters and the rows it must return.
type Case struct {
	Query  string
	Params map[string]string
	Keys   []string // the columns that identify a row
	Want   []Row
}

// Options chooses the parameters the cases use.
type Options struct {
	Until  time.Time // any day of the last month of the client metrics
	At     time.Time // the instant of the lifecycle stages
	Owner  string    // an owner for the filtered realized_clv case (empty: the first client's)
	Sector string    // a sector for the filtered churn_ltv and cac_ltv cases (empty: fitness)
	// AsOf is the as-of day of the world's Predictions for predicted_net_clv (zero: no such
	// case; the caller names the query in Check's elsewhere).
	AsOf time.Time
}

// Cases returns a case for every query of the pack: client metrics with every by, business
// metrics with every by, and filtered runs of some.
func (r *Ref) Cases(o Options) []Case {
	until, at := o.Until, o.At
	if o.Owner == "" && len(r.w.Clients) > 0 {
		o.Owner = r.w.Clients[0].Owner
	}
	if o.Sector == "" {
		o.Sector = "fitness"
	}
	var cases []Case
	for _, by := range []string{"platform", "owner", "sector", "cohort"} {
		p := map[string]string{"by": by, "until": day(until)}
		cases = append(cases,
			Case{"retention_clients", p, []string{"dim", "cohort", "k"}, r.retentionClients(by, until)},
			Case{"retention_value", p, []string{"dim", "cohort", "currency", "k"}, r.retentionValue(by, until)},
			Case{"realized_clv", p, []string{"dim", "cohort", "currency", "k"}, r.realizedCLV(by, until)},
			Case{"order_metrics", p, []string{"dim", "month", "currency"}, r.orderMetrics(by, until)},
			Case{"repeat_purchase_rate", p, []string{"dim", "month"}, r.repeatPurchaseRate(by, until)},
			Case{"churn_ltv", p, []string{"dim", "month", "currency"}, r.churnLTV(by, until)},
			Case{"net_clv", p, []string{"dim", "month", "currency"}, r.netCLV(by, until)},
			Case{"retention_rate", p, []string{"dim", "month"}, r.retentionRate(by, until)},
			Case{"lifecycle_counts", map[string]string{"by": by, "at": at.Format(time.DateTime)}, []string{"dim", "stage"}, r.lifecycleCounts(by, at)},
		)
	}
	if !o.AsOf.IsZero() {
		for _, by := range []string{"platform", "owner", "sector", "cohort"} {
			cases = append(cases, Case{"predicted_net_clv", map[string]string{"by": by, "as_of": day(o.AsOf)},
				[]string{"dim", "currency"}, r.predictedNetCLV(by, o.AsOf)})
		}
		cases = append(cases, Case{"predicted_net_clv", map[string]string{"by": "owner", "owner": o.Owner, "as_of": day(o.AsOf)},
			[]string{"dim", "currency"}, filter(r.predictedNetCLV("owner", o.AsOf), "dim", o.Owner)})
	}
	cases = append(cases, Case{"lifecycle_stage", map[string]string{"at": at.Format(time.DateTime)}, []string{"client_id"}, r.lifecycleStage(at)})
	for _, by := range []string{"business", "sector", "platform"} {
		p := map[string]string{"by": by}
		cases = append(cases,
			Case{"nps_csat", p, []string{"dim", "month"}, r.npsCSAT(by)},
			Case{"rejected_claims", p, []string{"dim", "month"}, r.rejectedClaims(by)},
			Case{"cac_ltv", p, []string{"dim", "month", "currency"}, r.cacLTV(by)},
		)
	}
	dlqKeys := []string{"consumer", "source_topic", "reason"}
	cases = append(cases,
		Case{"dlq_counts", nil, dlqKeys, r.dlqCounts()},
		Case{"dlq_counts", map[string]string{"consumer": "ledger"}, dlqKeys, filter(r.dlqCounts(), "consumer", "ledger")},
		// Filters narrow the same computation: one owner, one sector.
		Case{"realized_clv", map[string]string{"by": "owner", "owner": o.Owner, "until": day(until)}, []string{"dim", "cohort", "currency", "k"},
			filter(r.realizedCLV("owner", until), "dim", o.Owner)},
		Case{"churn_ltv", map[string]string{"by": "sector", "sector": o.Sector, "until": day(until)}, []string{"dim", "month", "currency"},
			filter(r.churnLTV("sector", until), "dim", o.Sector)},
		Case{"cac_ltv", map[string]string{"by": "sector", "sector": o.Sector}, []string{"dim", "month", "currency"},
			filter(r.cacLTV("sector"), "dim", o.Sector)},
		Case{"net_clv", map[string]string{"by": "owner", "owner": o.Owner, "until": day(until)}, []string{"dim", "month", "currency"},
			filter(r.netCLV("owner", until), "dim", o.Owner)},
		Case{"retention_rate", map[string]string{"by": "sector", "sector": o.Sector, "until": day(until)}, []string{"dim", "month"},
			filter(r.retentionRate("sector", until), "dim", o.Sector)},
	)
	return cases
}

// Check runs every case on conn as a subtest and compares the result with its rows: the same
// set of keys, every column equal (decimals exactly, floats to 1e-9 relative). A case whose
// reference is empty fails (the data does not exercise the query), and so does a query of
// the pack that no case covers, unless it is named in elsewhere (checked by the caller).
func Check(ctx context.Context, t *testing.T, conn driver.Conn, cases []Case, elsewhere ...string) {
	t.Helper()
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, name := range elsewhere {
		covered[name] = true
	}
	for _, c := range cases {
		covered[c.Query] = true
		t.Run(c.Query+"/"+paramString(c.Params), func(t *testing.T) {
			got := Run(ctx, t, conn, c.Query, c.Params)
			if len(c.Want) == 0 {
				t.Fatal("the reference has no rows: the data does not exercise this query")
			}
			compare(t, got, c.Keys, c.Want)
		})
	}
	for _, q := range all {
		if !covered[q.Name] {
			t.Errorf("query %s has no reference computation", q.Name)
		}
	}
}

// Run runs the pack's query name with params on conn and reads its result, failing t on
// any error.
func Run(ctx context.Context, t *testing.T, conn driver.Conn, name string, params map[string]string) *query.Table {
	t.Helper()
	q, err := queries.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := query.Run(ctx, conn, q, params)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func filter(rows []Row, col, val string) []Row {
	var out []Row
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
// that every column of every Row equals the reference.
func compare(t *testing.T, got *query.Table, keys []string, want []Row) {
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
			t.Errorf("result has Row %s twice", k)
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
			t.Errorf("result lacks Row %s: want %v", k, w)
			bad++
		} else {
			for c, wv := range w {
				gv := normalize(got.Rows[i][col[c]], got.Types[col[c]])
				if !equal(gv, wv) {
					t.Errorf("Row %s column %s = %v, reference %v", k, c, gv, wv)
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
