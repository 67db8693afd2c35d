package report

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/sql/queries"
)

// Source says which data Load reads.
type Source struct {
	// Until is any day of the report's last month (zero: the month of the latest purchase).
	Until time.Time
	// Title of the report (zero: the default title).
	Title string
}

// Load fills Data from the BI query pack (sql/queries) on conn, platform wide: the retention
// triangle (retention_clients), CLV curves (realized_clv), passive income per owner
// (realized_clv by owner), churn and LTV (churn_ltv, repeat_purchase_rate), NPS/CSAT
// (nps_csat, summed over months), LTV : CAC (cac_ltv, the latest month of each business)
// and dead letters (dlq_counts). Every figure is a query's row as returned, or a sum of rows.
func Load(ctx context.Context, conn driver.Conn, src Source) (Data, error) {
	d := Data{Title: src.Title, GeneratedAt: time.Now().UTC()}
	until := src.Until
	if until.IsZero() {
		var last time.Time
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT max(month), count() FROM purchases").Scan(&last, &n); err != nil {
			return d, fmt.Errorf("finding the latest purchase month: %w", err)
		}
		if n == 0 {
			until = time.Now().UTC()
		} else {
			until = last
		}
	}
	params := map[string]string{"until": until.UTC().Format(time.DateOnly)}
	names, err := businessNames(ctx, conn)
	if err != nil {
		return d, err
	}
	run := packRunner(ctx, conn)
	steps := []struct {
		name string
		fn   func() error
	}{
		{"retention", func() error { return loadRetention(run, params, &d) }},
		{"clv", func() error { return loadCLV(run, params, &d) }},
		{"owners", func() error { return loadOwners(run, params, names, &d) }},
		{"churn", func() error { return loadChurn(run, params, &d) }},
		{"net-clv", func() error { return loadNetCLV(run, params, &d) }},
		{"retention-rate", func() error { return loadRetentionRate(run, params, &d) }},
		{"satisfaction", func() error { return loadSatisfaction(run, names, &d) }},
		{"ltv-cac", func() error { return loadLTVCAC(run, names, &d) }},
		{"predicted clv", func() error { return loadPredicted(ctx, conn, run, &d) }},
		{"dead letters", func() error { return loadDeadLetters(run, &d) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return d, fmt.Errorf("loading %s: %w", s.name, err)
		}
	}
	d.Summary = summarize(d)
	return d, nil
}

// packRun runs the named query of the pack with those of p's parameters the query declares.
type packRun func(name string, p map[string]string) (*table, error)

// each runs the named query with p's parameters and calls fn with each row of its result.
func (run packRun) each(name string, p map[string]string, fn func(row)) error {
	t, err := run(name, p)
	if err != nil {
		return err
	}
	return t.each(fn)
}

// packRunner returns the packRun of conn.
func packRunner(ctx context.Context, conn driver.Conn) packRun {
	return func(name string, p map[string]string) (*table, error) {
		q, err := queries.Lookup(name)
		if err != nil {
			return nil, err
		}
		args := map[string]string{}
		for k, v := range p {
			if _, ok := q.Param(k); ok {
				args[k] = v
			}
		}
		t, err := query.Run(ctx, conn, q, args)
		if err != nil {
			return nil, err
		}
		return &table{name: name, t: t}, nil
	}
}

// loadRetention reads the retention triangle (retention_clients).
func loadRetention(run packRun, params map[string]string, d *Data) error {
	return run.each("retention_clients", params, func(r row) {
		d.Retention = append(d.Retention, RetentionCell{Cohort: r.time("cohort"), Offset: int(r.int("k")),
			Size: r.int("cohort_clients"), Active: r.int("active_clients")})
	})
}

// loadCLV reads the realized CLV curves (realized_clv).
func loadCLV(run packRun, params map[string]string, d *Data) error {
	return run.each("realized_clv", params, func(r row) {
		d.CLV = append(d.CLV, CLVPoint{Cohort: r.time("cohort"), Offset: int(r.int("k")), Currency: r.str("currency"),
			Direct: r.dec("direct_per_client"), Indirect: r.dec("indirect_per_client"),
			Commissions: r.dec("commissions_per_client")})
	})
}

// loadSatisfaction sums NPS and CSAT per business over the months (nps_csat).
func loadSatisfaction(run packRun, names map[string]nameSector, d *Data) error {
	by := map[string]*Satisfaction{}
	var order []string
	err := run.each("nps_csat", map[string]string{"by": "business"}, func(r row) {
		id := r.str("dim")
		s := by[id]
		if s == nil {
			s = &Satisfaction{BusinessID: id}
			by[id] = s
			order = append(order, id)
		}
		s.NPSResponses += r.int("nps_answers")
		s.Promoters += r.int("promoters")
		s.Detractors += r.int("detractors")
		s.CSATResponses += r.int("csat_answers")
		s.Satisfied += r.int("satisfied")
	})
	for _, id := range order {
		by[id].Name = names[id].name
		d.NPS = append(d.NPS, *by[id])
	}
	return err
}

// loadLTVCAC keeps the latest month of LTV : CAC per business and currency (cac_ltv).
func loadLTVCAC(run packRun, names map[string]nameSector, d *Data) error {
	latest := map[string]int{}
	err := run.each("cac_ltv", map[string]string{"by": "business"}, func(r row) {
		x := LTVCAC{BusinessID: r.str("dim"), Currency: r.str("currency"), NewClients: r.int("new_clients"),
			Spend: r.dec("acquisition_spend"), CAC: r.nullDec("cac"), LTV: r.nullDec("ltv")}
		key := x.BusinessID + "/" + x.Currency
		if i, ok := latest[key]; ok { // rows come by month: keep the latest
			d.LTVCAC[i] = x
			return
		}
		latest[key] = len(d.LTVCAC)
		d.LTVCAC = append(d.LTVCAC, x)
	})
	for i := range d.LTVCAC {
		d.LTVCAC[i].Name = names[d.LTVCAC[i].BusinessID].name
	}
	return err
}

// loadDeadLetters reads the dead-letter counts (dlq_counts).
func loadDeadLetters(run packRun, d *Data) error {
	return run.each("dlq_counts", nil, func(r row) {
		d.DLQ = append(d.DLQ, DeadLetters{Consumer: r.str("consumer"), Topic: r.str("source_topic"),
			Reason: r.str("reason"), Count: r.int("dead_letters")})
	})
}

func loadOwners(run packRun, params map[string]string, names map[string]nameSector, d *Data) error {
	p := map[string]string{"by": "owner", "until": params["until"]}
	// Rows are cumulative by k: per owner, cohort and currency keep the last row.
	type key struct{ owner, cohort, cur string }
	last := map[key]row{}
	var order []key
	clients := map[string]map[string]int64{} // owner → cohort → clients
	err := run.each("realized_clv", p, func(r row) {
		k := key{r.str("dim"), monthLabel(r.time("cohort")), r.str("currency")}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = r
		if clients[k.owner] == nil {
			clients[k.owner] = map[string]int64{}
		}
		clients[k.owner][k.cohort] = r.int("cohort_clients")
	})
	if err != nil {
		return err
	}
	idx := map[[2]string]int{}
	for _, k := range order {
		r := last[k]
		i, ok := idx[[2]string{k.owner, k.cur}]
		if !ok {
			i = len(d.Owners)
			idx[[2]string{k.owner, k.cur}] = i
			var n int64
			for _, c := range clients[k.owner] {
				n += c
			}
			d.Owners = append(d.Owners, Owner{BusinessID: k.owner, Name: names[k.owner].name,
				Sector: names[k.owner].sector, Currency: k.cur, Clients: n})
		}
		o := &d.Owners[i]
		o.Direct = o.Direct.Add(r.dec("direct_value"))
		o.Elsewhere = o.Elsewhere.Add(r.dec("indirect_value"))
		o.Commissions = o.Commissions.Add(r.dec("commissions"))
	}
	return nil
}

func loadChurn(run packRun, params map[string]string, d *Data) error {
	rpr := map[string]float64{}
	if err := run.each("repeat_purchase_rate", params, func(r row) { rpr[monthLabel(r.time("month"))] = r.float("repeat_purchase_rate") }); err != nil {
		return err
	}
	return run.each("churn_ltv", params, func(r row) {
		m := r.time("month")
		c := ChurnMonth{Month: m, ActiveAtStart: r.int("active_start"), Churned: r.int("churned"),
			RepeatRate: rpr[monthLabel(m)], Currency: r.str("currency"), AMPU: r.dec("ampu"), LTV: r.nullDec("ltv")}
		d.Churn = append(d.Churn, c)
	})
}

var (
	fieldError = regexp.MustCompile(`field "([^"]+)": (required)?`)
	number     = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

// reasonLabel is the short reason a dead letter is counted under: its error_label, else one
// derived from the error text ("<field>:missing", "<field>:invalid", "json:malformed", or the
// error's last clause with numbers masked), so records differing only in ids count together.
// sql/queries/dlq_counts.sql applies the same rules in SQL (Load reads its rows); this is
// their statement in Go, which TestReasonLabel pins.
func reasonLabel(label, text string) string {
	if label != "" {
		return label
	}
	if m := fieldError.FindStringSubmatch(text); m != nil {
		if m[2] != "" {
			return m[1] + ":missing"
		}
		return m[1] + ":invalid"
	}
	if strings.Contains(text, "malformed JSON") {
		return "json:malformed"
	}
	if i := strings.LastIndex(text, ": "); i >= 0 {
		text = text[i+2:]
	}
	if text == "" {
		return "unknown"
	}
	return number.ReplaceAllString(text, "N")
}

type nameSector struct{ name, sector string }

// businessNames reads every business's latest name and sector.
func businessNames(ctx context.Context, conn driver.Conn) (map[string]nameSector, error) {
	rows, err := conn.Query(ctx, "SELECT business_id, name, sector FROM business_profiles")
	if err != nil {
		return nil, fmt.Errorf("reading business names: %w", err)
	}
	defer rows.Close()
	out := map[string]nameSector{}
	for rows.Next() {
		var id string
		var v nameSector
		if err := rows.Scan(&id, &v.name, &v.sector); err != nil {
			return nil, fmt.Errorf("reading business names: %w", err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// summarize derives the headline figures from d (sums of what the queries returned).
func summarize(d Data) []Figure {
	var clients int64
	seen := map[string]bool{}
	for _, c := range d.Retention {
		if k := monthLabel(c.Cohort); !seen[k] {
			seen[k] = true
			clients += c.Size
		}
	}
	cur := d.chartCurrency()
	var direct, elsewhere, comm decimal.Decimal
	for _, o := range d.Owners {
		if o.Currency == cur {
			direct, elsewhere, comm = direct.Add(o.Direct), elsewhere.Add(o.Elsewhere), comm.Add(o.Commissions)
		}
	}
	var dlq int64
	for _, x := range d.DLQ {
		dlq += x.Count
	}
	return []Figure{
		{"Clients with an owner", fmt.Sprint(clients)},
		{"Direct value (" + cur + ")", money(direct, cur)},
		{"Bought elsewhere (" + cur + ")", money(elsewhere, cur)},
		{"Passive income: commissions (" + cur + ")", money(comm, cur)},
		{"Dead letters", fmt.Sprint(dlq)},
	}
}

// table reads a query result by column name. A missing column or a value of an unexpected
// type is recorded and reported once by each.
type table struct {
	name string
	t    *query.Table
	err  error
}

type row struct {
	tb *table
	i  int
}

func (t *table) each(fn func(row)) error {
	for i := range t.t.Rows {
		fn(row{t, i})
		if t.err != nil {
			return t.err
		}
	}
	return nil
}

func (r row) get(col string) any {
	for j, c := range r.tb.t.Columns {
		if c == col {
			return deref(r.tb.t.Rows[r.i][j])
		}
	}
	if r.tb.err == nil {
		r.tb.err = fmt.Errorf("query %s: no column %q (have %v)", r.tb.name, col, r.tb.t.Columns)
	}
	return nil
}

func (r row) fail(col string, v any) {
	if r.tb.err == nil {
		r.tb.err = fmt.Errorf("query %s row %d: column %s: unexpected %T", r.tb.name, r.i+1, col, v)
	}
}

// deref turns a Nullable column's pointer into its value, or nil.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return rv.Elem().Interface()
	}
	return v
}

func (r row) str(col string) string {
	switch v := r.get(col).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		r.fail(col, v)
		return ""
	}
}

func (r row) time(col string) time.Time {
	switch v := r.get(col).(type) {
	case time.Time:
		return time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
	default:
		r.fail(col, v)
		return time.Time{}
	}
}

func (r row) int(col string) int64 {
	v := r.get(col)
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint())
	case reflect.Invalid: // NULL
		return 0
	}
	r.fail(col, v)
	return 0
}

func (r row) float(col string) float64 {
	v := r.get(col)
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case nil:
		return 0
	case decimal.Decimal:
		return x.InexactFloat64()
	}
	r.fail(col, v)
	return 0
}

// nullDec reads a decimal (Decimal columns as they are; Float64 columns, such as LTV, through
// their shortest decimal representation); NULL is invalid.
func (r row) nullDec(col string) decimal.NullDecimal {
	v := r.get(col)
	switch x := v.(type) {
	case nil:
		return decimal.NullDecimal{}
	case decimal.Decimal:
		return decimal.NullDecimal{Decimal: x, Valid: true}
	case float64:
		return decimal.NullDecimal{Decimal: decimal.NewFromFloat(x), Valid: true}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decimal.NullDecimal{Decimal: decimal.NewFromInt(rv.Int()), Valid: true}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decimal.NullDecimal{Decimal: decimal.NewFromUint64(rv.Uint()), Valid: true}
	}
	r.fail(col, v)
	return decimal.NullDecimal{}
}

func (r row) dec(col string) decimal.Decimal { return r.nullDec(col).Decimal }
