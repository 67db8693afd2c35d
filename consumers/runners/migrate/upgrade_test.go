package migrate_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/tabletest"
	"github.com/taskole/revshare/sql/migrations"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestLoadSuperseded(t *testing.T) {
	old := sum([]byte("SELECT 0;"))
	tests := []struct {
		name    string
		table   string
		want    []string
		wantErr string
	}{
		{"none", "", nil, ""},
		{"one with comment", "# c\n\n0001_a.sql " + old + " why\n", []string{old}, ""},
		{"two for one file", "0001_a.sql " + old + "\n0001_a.sql " + sum([]byte("x")) + "\n", []string{old, sum([]byte("x"))}, ""},
		{"unknown file", "0002_b.sql " + old + "\n", nil, "not a migration file"},
		{"short checksum", "0001_a.sql abc\n", nil, "line 1"},
		{"no checksum", "0001_a.sql\n", nil, "line 1"},
		{"current checksum", "0001_a.sql " + sum([]byte("SELECT 1;")) + "\n", nil, "current checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT 1;")}}
			if tt.table != "" {
				fsys[migrate.SupersededFile] = &fstest.MapFile{Data: []byte(tt.table)}
			}
			ms, err := migrate.Load(fsys)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			if strings.Join(ms[0].Superseded, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("Superseded = %v, want %v", ms[0].Superseded, tt.want)
			}
		})
	}
}

var createView = regexp.MustCompile(`(?is)^CREATE\s+VIEW\s+IF\s+NOT\s+EXISTS\s`)

// deployedFixture holds, byte for byte, what databases migrated by earlier binaries may have
// recorded: layout-4908f17/ is the migrations directory of 4908f17 (the last layout with
// views in numbered files), and versions/NAME.sql@N-COMMIT every committed version of a file
// whose views moved to views.sql that an upgrade accepts, oldest first (N = 1), each `git show
// COMMIT:sql/migrations/NAME.sql`; 0131's three versions from before 89626d1 are left out:
// they differ in more than views (edited within the session that wrote them).
const deployedFixture = "testdata/deployed.tar.gz"

// fixture reads deployedFixture: the 4908f17 layout and the versions of each file by name.
func fixture(t *testing.T) (layout fstest.MapFS, versions map[string][][]byte) {
	t.Helper()
	f, err := os.Open(deployedFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	layout, versions = fstest.MapFS{}, map[string][][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		dir, name := path.Split(h.Name)
		switch dir {
		case "layout-4908f17/":
			layout[name] = &fstest.MapFile{Data: b}
		case "versions/":
			file, _, _ := strings.Cut(name, "@")
			versions[file] = append(versions[file], b)
		}
	}
	if len(layout) < 20 || len(versions) < 10 {
		t.Fatalf("%s: %d files in the layout, versions of %d", deployedFixture, len(layout), len(versions))
	}
	return layout, versions
}

// TestEmbeddedSuperseded checks the project's table: the checksums listed for a file are
// exactly those of its deployed versions other than the current text, and each such version
// differs from the current file only in its plain views (the only statements an upgrade
// re-runs).
func TestEmbeddedSuperseded(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	_, versions := fixture(t)
	n := 0
	for _, m := range ms {
		derived := map[string][]byte{}
		for _, b := range versions[m.Name+".sql"] {
			if string(b) != m.SQL {
				derived[sum(b)] = b
			}
		}
		for _, c := range m.Superseded {
			n++
			b, ok := derived[c]
			if !ok {
				t.Errorf("%s: no deployed version has the checksum %s the table lists", m.Name, c[:12])
				continue
			}
			was, is := nonViews(string(b)), nonViews(m.SQL)
			if strings.Join(was, "\n;\n") != strings.Join(is, "\n;\n") {
				t.Errorf("%s: the earlier version differs outside plain views; add a new migration instead", m.Name)
			}
		}
		if len(m.Superseded) != len(derived) {
			t.Errorf("%s: %d deployed versions, %d listed", m.Name, len(derived), len(m.Superseded))
		}
	}
	if n == 0 {
		t.Fatal("no superseded checksums: the table is not read")
	}
}

// TestEmbeddedRetired checks retired.txt: every retired file has deployed versions, each
// held only plain views (and drops of views), and its listed checksums are exactly theirs, so
// every database that recorded it is accepted, and no other.
func TestEmbeddedRetired(t *testing.T) {
	rs, err := migrate.LoadRetired(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		t.Fatal("no retired files: the table is not read")
	}
	_, versions := fixture(t)
	for _, r := range rs {
		var derived []string
		for _, b := range versions[r.Name+".sql"] {
			derived = append(derived, sum(b))
			if left := nonViews(string(b)); len(left) > 0 {
				t.Errorf("%s: a version holds more than plain views: %.60s", r.Name, left[0])
			}
		}
		slices.Sort(derived)
		got := slices.Clone(r.Checksums)
		slices.Sort(got)
		if len(derived) == 0 || !slices.Equal(got, derived) {
			t.Errorf("%s: retired.txt lists %d checksums, %d deployed versions (or other checksums)", r.Name, len(got), len(derived))
		}
	}
}

// dropView matches the DROP TABLE IF EXISTS that came before re-creating a view.
var dropView = regexp.MustCompile(`(?is)^DROP\s+TABLE\s+IF\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)$`)

// nonViews returns the statements of sql that are neither plain views nor drops of a view
// the same text creates.
func nonViews(sql string) []string {
	stmts := migrate.Split(sql)
	views := map[string]bool{}
	for _, s := range stmts {
		if m := createViewName.FindStringSubmatch(s.SQL); m != nil {
			views[m[1]] = true
		}
	}
	var out []string
	for _, s := range stmts {
		if d := dropView.FindStringSubmatch(s.SQL); createView.MatchString(s.SQL) || (d != nil && views[d[1]]) {
			continue
		}
		out = append(out, s.SQL)
	}
	return out
}

var createViewName = regexp.MustCompile(`(?is)^CREATE\s+VIEW\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\b`)

// earlier returns the 4908f17 layout with the oldest deployed versions of the named files,
// as a deployment had it.
//
// through, when not empty, names the last file the earlier deployment had: later files are
// left out (they came after it).
func earlier(t *testing.T, through string, names ...string) fstest.MapFS {
	t.Helper()
	layout, versions := fixture(t)
	out := fstest.MapFS{} // without superseded.txt: the binaries that applied them had none
	for name, f := range layout {
		if !strings.HasSuffix(name, ".sql") || (through != "" && name > through) {
			continue
		}
		out[name] = f
	}
	for _, name := range names {
		vs := versions[name]
		if len(vs) < 2 {
			t.Fatalf("%s has %d deployed versions, want an earlier one", name, len(vs))
		}
		out[name] = &fstest.MapFile{Data: vs[0]}
	}
	return out
}

func viewQuery(t *testing.T, conn clickhouse.Conn, db, name string) string {
	t.Helper()
	var q string
	if err := conn.QueryRow(context.Background(), "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", db, name).Scan(&q); err != nil {
		t.Fatalf("reading the definition of %s: %v", name, err)
	}
	return q
}

// schema returns every table and view of db with its definition, the database's name cut
// out, and schema_migrations left out.
func schema(t *testing.T, conn clickhouse.Conn, db string) map[string]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT name, create_table_query FROM system.tables WHERE database = ? AND name != 'schema_migrations'", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		out[name] = strings.ReplaceAll(q, db+".", "")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpgradeSuperseded applies a deployment's files (deployedLayout as it was, or with the
// earlier versions of 0100 and 0102, or through 0138's first version), then the current
// files: Up accepts the superseded and retired checksums, records the current checksums,
// re-creates every view from views.sql and leaves the database with the schema of a fresh
// install; a second Up is a no-op.
func TestUpgradeSuperseded(t *testing.T) {
	addr := itest.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fresh := itest.Database(t)
	if _, err := migrate.Up(ctx, migrate.Config{Addr: addr, Database: fresh}, migrations.FS()); err != nil {
		t.Fatalf("fresh install: %v", err)
	}
	want := schema(t, conn, fresh)
	// 0100 and 0102: the earlier versions joined unaliased subqueries.
	unaliasedBefore := func(t *testing.T, db string) {
		if q := viewQuery(t, conn, db, "business_profiles"); strings.Contains(q, "AS lhs") {
			t.Fatalf("earlier business_profiles already aliased: %s", q)
		}
	}
	aliasedAfter := func(t *testing.T, db string) {
		for _, v := range []string{"business_profiles", "client_owners", "purchases"} {
			if q := viewQuery(t, conn, db, v); !strings.Contains(q, "AS lhs") || !strings.Contains(q, "AS rhs") {
				t.Errorf("%s not re-created from the current file: %s", v, q)
			}
		}
		if q := viewQuery(t, conn, db, "purchases"); !strings.Contains(q, "accepted_bookings") {
			t.Errorf("purchases lost 0102's definition (over accepted_bookings): %s", q)
		}
	}
	// 0138: the earlier version grouped purchase_instants, the current reads client_purchase_times.
	readsArrays := func(t *testing.T, db string) bool {
		return strings.Contains(viewQuery(t, conn, db, "retention_cost_allocations"), "client_purchase_times")
	}
	groupedBefore := func(t *testing.T, db string) {
		if readsArrays(t, db) {
			t.Fatal("the earlier retention_cost_allocations already reads client_purchase_times")
		}
	}
	arraysAfter := func(t *testing.T, db string) {
		if !readsArrays(t, db) {
			t.Error("retention_cost_allocations not re-created from the current file")
		}
	}
	// 4908f17: client_activity_runs was 0143's, the last view a numbered file created.
	runsBefore := func(t *testing.T, db string) {
		if q := viewQuery(t, conn, db, "client_activity_runs"); !strings.Contains(q, "client_purchase_runs") {
			t.Fatalf("the deployed client_activity_runs does not read client_purchase_runs: %s", q)
		}
	}
	// Every file whose views moved to views.sql and that still holds tables.
	stripped := []string{"0100_facts", "0131_purchase_rollups", "0133_current_owners", "0135_client_months_rollup"}
	for _, tt := range []struct {
		name          string
		earlier       []string
		through       string // the earlier deployment's last file ("": it had them all)
		before, after func(t *testing.T, db string)
		query         string // a view to read once upgraded
	}{
		{"deployed layout", nil, "", runsBefore, func(*testing.T, string) {}, "client_activity_runs"},
		{"both files", []string{"0100_facts.sql", "0102_ledger_refused.sql"}, "", unaliasedBefore, aliasedAfter, "purchases"},
		// Only 0100 was superseded: re-creating its purchases must not undo 0102's.
		{"earlier file only", []string{"0100_facts.sql"}, "", unaliasedBefore, aliasedAfter, "purchases"},
		// 0138's first version was replaced in the session that wrote it, before any later
		// file existed: that deployment ends at 0138 (the files after it are retired too).
		{"0138 only", []string{"0138_cost_allocations_one_stream.sql"}, "0138_cost_allocations_one_stream.sql",
			groupedBefore, arraysAfter, "retention_cost_allocations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := itest.Database(t)
			cfg := migrate.Config{Addr: addr, Database: db}
			if _, err := migrate.Up(ctx, cfg, earlier(t, tt.through, tt.earlier...)); err != nil {
				t.Fatalf("applying the earlier versions: %v", err)
			}
			tt.before(t, db)
			res, err := migrate.Up(ctx, cfg, migrations.FS())
			if err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			var got, applied []string
			for _, m := range res.Upgraded {
				got = append(got, m.Name)
			}
			for _, m := range res.Applied {
				applied = append(applied, m.Name)
			}
			if strings.Join(got, ",") != strings.Join(stripped, ",") || strings.Join(applied, ",") != "views" {
				t.Fatalf("Upgraded = %v, Applied = %v, want %v and [views]", got, applied, stripped)
			}
			tt.after(t, db)
			have := schema(t, conn, db)
			for name, q := range want {
				if have[name] != q {
					t.Errorf("%s after the upgrade differs from a fresh install:\n%s\nwant\n%s", name, have[name], q)
				}
			}
			for name := range have {
				if _, ok := want[name]; !ok {
					t.Errorf("%s after the upgrade is not in a fresh install", name)
				}
			}
			var n uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+"."+tt.query).Scan(&n); err != nil {
				t.Errorf("querying the re-created %s: %v", tt.query, err)
			}
			res, err = migrate.Up(ctx, cfg, migrations.FS())
			if err != nil || len(res.Applied) != 0 || len(res.Upgraded) != 0 {
				t.Fatalf("second Up = %+v, %v; want a no-op", res, err)
			}
		})
	}
}

// TestLoadViewsAndRetired pins what Load accepts of the views file and the retired table.
func TestLoadViewsAndRetired(t *testing.T) {
	a := "CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = Memory;\n"
	v := "CREATE VIEW IF NOT EXISTS v AS SELECT x FROM a;\n"
	tests := []struct {
		name, views, retired, wantErr string
		wantViews                     bool
	}{
		{"no views file", "", "", "", false},
		{"views last", v + "-- w reads v\nCREATE VIEW IF NOT EXISTS w AS SELECT x FROM v;\n", "", "", true},
		{"a table in the views file", v + a, "", "is not a CREATE VIEW IF NOT EXISTS", false},
		{"a materialized view", "CREATE MATERIALIZED VIEW IF NOT EXISTS m TO a AS SELECT x FROM a;\n", "", "is not a CREATE VIEW", false},
		{"a view twice", v + v, "", "defines view v twice (lines 1 and 2)", false},
		{"retired", "", "0002_gone.sql " + sum([]byte("x")) + " held v\n", "", false},
		{"retired but present", "", "0001_a.sql " + sum([]byte("x")) + "\n", "still a migration file", false},
		{"retired without checksum", "", "0002_gone.sql\n", "retired.txt line 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"0001_a.sql": {Data: []byte(a)}}
			if tt.views != "" {
				fsys[migrate.ViewsFile] = &fstest.MapFile{Data: []byte(tt.views)}
			}
			if tt.retired != "" {
				fsys[migrate.RetiredFile] = &fstest.MapFile{Data: []byte(tt.retired)}
			}
			ms, err := migrate.Load(fsys)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			last := ms[len(ms)-1]
			if last.Views != tt.wantViews || (tt.wantViews && (last.Name != "views" || last.Version != 0 || len(ms) != 2)) {
				t.Fatalf("Load = %+v, want the views file last: %v", ms, tt.wantViews)
			}
		})
	}
	// Version 0000 is the views file's record in schema_migrations.
	_, err := migrate.Load(fstest.MapFS{"0000_zero.sql": {Data: []byte(a)}})
	tabletest.Err(t, err, "version 0000 is the views file's record")
}

// TestEmbeddedViewsOnce checks the project's layout: every plain view is in views.sql and
// no numbered file creates one.
func TestEmbeddedViewsOnce(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	if !ms[len(ms)-1].Views || len(migrate.Split(ms[len(ms)-1].SQL)) < 20 {
		t.Fatalf("the views file is not loaded last with its views: %+v", ms[len(ms)-1].Name)
	}
	for _, m := range ms[:len(ms)-1] {
		for _, s := range migrate.Split(m.SQL) {
			if createView.MatchString(s.SQL) {
				t.Errorf("%s.sql line %d creates a plain view; it belongs in %s", m.Name, s.Line, migrate.ViewsFile)
			}
		}
	}
}

// TestViewsReapplied runs Up over a views file as it changes: a change re-creates every
// view, a return to an earlier text too (the last record decides), no change is a no-op;
// and a retired record is accepted with a listed checksum only.
func TestViewsReapplied(t *testing.T) {
	addr := itest.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := itest.Database(t)
	cfg := migrate.Config{Addr: addr, Database: db}
	files := func(view string) fstest.MapFS {
		return fstest.MapFS{
			"0001_a.sql":      {Data: []byte("CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = Memory;\n")},
			migrate.ViewsFile: {Data: []byte("CREATE VIEW IF NOT EXISTS v AS SELECT " + view + " FROM a;\n")},
		}
	}
	for i, step := range []struct {
		view        string
		wantApplied string
	}{
		{"x", "0001_a,views"},
		{"x", ""},
		{"x + 1 AS y", "views"},
		{"x", "views"},
		{"x", ""},
	} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // applied_at is in seconds: one step per second
		}
		res, err := migrate.Up(ctx, cfg, files(step.view))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var got []string
		for _, m := range res.Applied {
			got = append(got, m.Name)
		}
		if strings.Join(got, ",") != step.wantApplied {
			t.Fatalf("step %d (%s): applied %v, want %q", i, step.view, got, step.wantApplied)
		}
		if q := viewQuery(t, conn, db, "v"); !strings.Contains(q, "SELECT "+step.view+" FROM") {
			t.Fatalf("step %d: v is %s, want SELECT %s", i, q, step.view)
		}
	}

	// A version the files no longer have, recorded by an earlier binary.
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".schema_migrations (version, name, checksum)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(2), "0002_gone", sum([]byte("old"))); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, retired, wantErr string
	}{
		{"not retired", "", "records 0002_gone (version 2) but this binary does not have it"},
		{"retired with another checksum", "0002_gone.sql " + sum([]byte("other")) + "\n", "records the retired 0002_gone.sql with checksum"},
		{"retired", "0002_gone.sql " + sum([]byte("other")) + "\n0002_gone.sql " + sum([]byte("old")) + "\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := files("x")
			if tt.retired != "" {
				fsys[migrate.RetiredFile] = &fstest.MapFile{Data: []byte(tt.retired)}
			}
			res, err := migrate.Up(ctx, cfg, fsys)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			if len(res.Applied) != 0 || res.Current != 2 {
				t.Fatalf("Up = %+v; want a no-op over the two files", res)
			}
		})
	}
}
