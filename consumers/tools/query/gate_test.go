package query_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/sql/migrations"
	"github.com/taskole/revshare/sql/queries"
)

// The current-ClickHouse gate (deploy/chdb/gate.py) replays on ClickHouse 26.x, in process
// through chdb, what this package's reference test does on the 18.16 server: every migration
// statement as consumers/runners/migrate splits it, the raw tables this test loaded (exported from
// 18.16 in Native format), and every query of the pack with its parameters as `taskole query`
// renders them, and compares each answer with 18.16's. With TASKOLE_SQL_GATE_DIR set,
// TestQueryPackMatchesReference writes that bundle there (writeGateBundle); `make test`
// sets it and runs the harness after `go test`.

// gateBundle is manifest.json of the bundle; deploy/chdb/gate.py reads it.
type gateBundle struct {
	Server     string          `json:"server"` // 18.16's version()
	Statements []gateStatement `json:"statements"`
	Tables     []gateTable     `json:"tables"`
	Cases      []gateCase      `json:"cases"`
}

type gateStatement struct {
	File string `json:"file"` // repository path
	Line int    `json:"line"` // the statement's first line in File
	SQL  string `json:"sql"`
}

type gateTable struct {
	Name    string   `json:"name"`
	File    string   `json:"file"` // Native export, relative to the bundle
	Columns []string `json:"columns"`
	Rows    int      `json:"rows"`
}

type gateCase struct {
	Query    string            `json:"query"`
	File     string            `json:"file"`     // repository path
	Line     int               `json:"line"`     // first line of the SQL after the header
	Params   map[string]string `json:"params"`   // every parameter, defaults included
	Rendered string            `json:"rendered"` // what `taskole query` sends (literals)
	Template string            `json:"template"` // the file's SQL with {name:Type} placeholders
	Answer   string            `json:"answer"`   // 18.16's TabSeparatedWithNamesAndTypes, relative to the bundle
	Rows     int               `json:"rows"`
	Note     string            `json:"note,omitempty"`
}

// gateValues are the values of required parameters, by type: the reference test's instants.
var gateValues = map[string]string{"Date": "2025-12-01", "DateTime": "2025-09-15 12:00:00"}

// groupings returns the values a `by` parameter lists in its description ("grouping of the
// dim column: platform, owner, sector or cohort"), the query pack's convention.
var groupingList = regexp.MustCompile(`:\s*([a-z_]+(?:\s*(?:,|\bor\b)\s*[a-z_]+)+)\s*$`)

func groupings(p queries.Param) []string {
	m := groupingList.FindStringSubmatch(p.Description)
	if m == nil {
		return nil
	}
	var out []string
	for _, f := range regexp.MustCompile(`\s*(?:,|\bor\b)\s*`).Split(m[1], -1) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// chHTTP is the 18.16 server's HTTP interface (Native export and server-formatted answers).
type chHTTP struct {
	base string // http://host:port/
	db   string
}

func gateHTTP(nativeAddr, db string) chHTTP {
	addr := os.Getenv("TASKOLE_CLICKHOUSE_HTTP_ADDR")
	if addr == "" {
		host, _, err := net.SplitHostPort(nativeAddr)
		if err != nil {
			host = nativeAddr
		}
		addr = net.JoinHostPort(host, "8123")
	}
	return chHTTP{base: "http://" + addr + "/", db: db}
}

func (c chHTTP) query(ctx context.Context, sql string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"?database="+url.QueryEscape(c.db), strings.NewReader(sql))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("querying clickhouse over http: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return fmt.Errorf("querying clickhouse over http: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

func (c chHTTP) text(ctx context.Context, sql string) (string, error) {
	var b strings.Builder
	err := c.query(ctx, sql, &b)
	return b.String(), err
}

// writeGateBundle writes the gate's bundle for database db (migrated, loaded) into dir.
func writeGateBundle(ctx context.Context, t *testing.T, addr, db, dir string) {
	t.Helper()
	ch := gateHTTP(addr, db)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"raw", "answers"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var b gateBundle
	v, err := ch.text(ctx, "SELECT version()")
	if err != nil {
		t.Fatalf("gate: %v", err)
	}
	b.Server = strings.TrimSpace(v)

	// Migrations, split by the one splitter `taskole migrate` uses.
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, s := range migrate.Split(m.SQL) {
			b.Statements = append(b.Statements, gateStatement{File: "sql/migrations/" + m.Name + ".sql", Line: s.Line, SQL: s.SQL})
		}
	}

	// Every table holding data, except the record of migrations and the targets of
	// materialized views (the harness's inserts fill those through the views, as here).
	list, err := ch.text(ctx, "SELECT name, engine, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name FORMAT JSONEachRow")
	if err != nil {
		t.Fatalf("gate: listing tables: %v", err)
	}
	type tableRow struct{ Name, Engine string }
	var tables []tableRow
	mvTargets := map[string]bool{}
	to := regexp.MustCompile(`\bTO\s+(?:[A-Za-z_][A-Za-z0-9_]*\.)?([A-Za-z_][A-Za-z0-9_]*)`)
	sc := bufio.NewScanner(strings.NewReader(list))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Name   string `json:"name"`
			Engine string `json:"engine"`
			Create string `json:"create_table_query"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("gate: decoding system.tables: %v", err)
		}
		if r.Engine == "MaterializedView" {
			head, _, _ := strings.Cut(r.Create, " AS ")
			if m := to.FindStringSubmatch(head); m != nil {
				mvTargets[m[1]] = true
			}
		}
		tables = append(tables, tableRow{r.Name, r.Engine})
	}
	for _, tb := range tables {
		if tb.Engine == "View" || tb.Engine == "MaterializedView" || tb.Name == "schema_migrations" || mvTargets[tb.Name] {
			continue
		}
		cols, err := ch.text(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '"+tb.Name+"' FORMAT TSV")
		if err != nil {
			t.Fatalf("gate: columns of %s: %v", tb.Name, err)
		}
		n, err := ch.text(ctx, "SELECT count() FROM "+tb.Name)
		if err != nil {
			t.Fatalf("gate: counting %s: %v", tb.Name, err)
		}
		gt := gateTable{Name: tb.Name, File: "raw/" + tb.Name + ".native", Columns: strings.Fields(cols)}
		if _, err := fmt.Sscan(n, &gt.Rows); err != nil {
			t.Fatalf("gate: counting %s: %q", tb.Name, n)
		}
		f, err := os.Create(filepath.Join(dir, gt.File))
		if err != nil {
			t.Fatal(err)
		}
		err = ch.query(ctx, "SELECT "+strings.Join(gt.Columns, ", ")+" FROM "+tb.Name+" FORMAT Native", f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("gate: exporting %s: %v", tb.Name, err)
		}
		b.Tables = append(b.Tables, gt)
	}

	// Every query × every grouping its `by` lists, then once per filter parameter with a
	// value taken from an unfiltered answer.
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		base := map[string]string{}
		for _, p := range q.Params {
			if p.Required {
				v, ok := gateValues[p.Type]
				if !ok {
					t.Fatalf("gate: %s: no gate value for required param %s of type %s (add one to gateValues)", q.Name, p.Name, p.Type)
				}
				base[p.Name] = v
			}
		}
		var runs []map[string]string
		if by, ok := q.Param("by"); ok && len(groupings(by)) > 0 {
			for _, g := range groupings(by) {
				runs = append(runs, with(base, "by", g))
			}
		} else {
			runs = append(runs, base)
		}
		var qcases []gateCase
		for _, params := range runs {
			qcases = append(qcases, gateRun(ctx, t, ch, dir, q, params, len(b.Cases)+len(qcases)))
		}
		for _, p := range q.Params {
			if p.Required || p.Default != "" || p.Type != "String" || p.Name == "by" {
				continue
			}
			params, val, note := filterValue(dir, q, p, qcases, base)
			if val == "" {
				qcases[0].Note = strings.TrimSpace(qcases[0].Note + " " + note)
				continue
			}
			qcases = append(qcases, gateRun(ctx, t, ch, dir, q, with(params, p.Name, val), len(b.Cases)+len(qcases)))
		}
		b.Cases = append(b.Cases, qcases...)
	}
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("gate bundle: %d statements, %d tables, %d query runs from ClickHouse %s in %s", len(b.Statements), len(b.Tables), len(b.Cases), b.Server, dir)
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

// gateRun renders q with params, runs it on 18.16 and records the answer as case number n.
func gateRun(ctx context.Context, t *testing.T, ch chHTTP, dir string, q queries.Query, params map[string]string, n int) gateCase {
	t.Helper()
	sql, err := query.Render(q, params)
	if err != nil {
		t.Fatalf("gate: %v", err)
	}
	full := map[string]string{}
	for _, p := range q.Params {
		full[p.Name] = p.Default
		if v, ok := params[p.Name]; ok {
			full[p.Name] = v
		}
	}
	ans, err := ch.text(ctx, sql+"\nFORMAT TabSeparatedWithNamesAndTypes")
	if err != nil {
		t.Fatalf("gate: running %s %v on 18.16: %v", q.Name, params, err)
	}
	c := gateCase{Query: q.Name, File: "sql/queries/" + q.Name + ".sql", Line: bodyLine(q.SQL), Params: full,
		Rendered: sql, Template: q.SQL, Answer: fmt.Sprintf("answers/%03d_%s.tsv", n, q.Name), Rows: strings.Count(ans, "\n") - 2}
	if err := os.WriteFile(filepath.Join(dir, c.Answer), []byte(ans), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// filterValue picks a value for filter parameter p from an unfiltered answer: the first
// row's dim of the run grouped by p, else its column p or p_business_id.
func filterValue(dir string, q queries.Query, p queries.Param, cs []gateCase, base map[string]string) (map[string]string, string, string) {
	for _, c := range cs {
		params := base
		col := []string{p.Name, p.Name + "_business_id"}
		if c.Params["by"] == p.Name {
			params = with(base, "by", p.Name)
			col = []string{"dim"}
		}
		b, err := os.ReadFile(filepath.Join(dir, c.Answer))
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		if len(lines) < 4 {
			continue
		}
		names, first := strings.Split(lines[0], "\t"), strings.Split(lines[2], "\t")
		for _, want := range col {
			for i, n := range names {
				if n == want && i < len(first) && first[i] != "" {
					return params, first[i], ""
				}
			}
		}
	}
	return nil, "", fmt.Sprintf("filter %s not exercised (no answer names a column %s or groups by it)", p.Name, p.Name)
}

// bodyLine returns the 1-based line of the first line after the header comments.
func bodyLine(sql string) int {
	for i, l := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") && strings.TrimSpace(l) != "" {
			return i + 1
		}
	}
	return 1
}

// gateTimeout bounds the bundle's export and 18.16 runs.
const gateTimeout = 2 * time.Minute
