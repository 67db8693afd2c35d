package migrate_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []migrate.Statement
	}{
		{"empty", "", nil},
		{"comments only", "-- a\n  -- b\n\n", nil},
		{"one", "SELECT 1;\n", []migrate.Statement{{Line: 1, SQL: "SELECT 1"}}},
		{"no trailing semicolon", "SELECT 1", []migrate.Statement{{Line: 1, SQL: "SELECT 1"}}},
		{
			"multi-line with comments between",
			"-- header\nCREATE TABLE t\n(\n    -- the id\n    a String -- inline stays\n);\n\nSELECT 2;  \n",
			[]migrate.Statement{
				{Line: 2, SQL: "CREATE TABLE t\n(\n    a String -- inline stays\n)"},
				{Line: 8, SQL: "SELECT 2"},
			},
		},
		{"semicolon inside a line is not an end", "SELECT ';' AS x,\n 1;\n", []migrate.Statement{{Line: 1, SQL: "SELECT ';' AS x,\n 1"}}},
		{"crlf", "SELECT 1;\r\nSELECT 2;\r\n", []migrate.Statement{{Line: 1, SQL: "SELECT 1"}, {Line: 2, SQL: "SELECT 2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := migrate.Split(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("Split(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("statement %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_b.sql": {Data: []byte("SELECT 2;")},
		"0001_a.sql": {Data: []byte("SELECT 1;")},
		"README.md":  {Data: []byte("ignored")},
		"embed.go":   {Data: []byte("ignored")},
	}
	ms, err := migrate.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "0001_a" || ms[1].Version != 2 || ms[0].Checksum == ms[1].Checksum {
		t.Fatalf("Load = %+v", ms)
	}
	fsys["0002_c.sql"] = &fstest.MapFile{Data: []byte("SELECT 3;")}
	if _, err := migrate.Load(fsys); err == nil || !strings.Contains(err.Error(), "share version 2") {
		t.Fatalf("duplicate version: err = %v", err)
	}
}

// TestEmbedded checks the project's own files load and split (no server needed).
func TestEmbedded(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_raw" {
		t.Fatalf("embedded migrations = %v", ms)
	}
	for _, m := range ms {
		if len(migrate.Split(m.SQL)) == 0 {
			t.Errorf("%s has no statements", m.Name)
		}
	}
}

func tables(t *testing.T, addr, db string) []string {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(context.Background(), "SELECT name FROM system.tables WHERE database = ? ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestUpRealServer(t *testing.T) {
	cfg := migrate.Config{Addr: itest.ClickHouse(t), Database: itest.Database(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := migrate.Up(ctx, cfg, migrations.FS())
	if err != nil {
		t.Fatalf("first Up: %v", err)
	}
	all, _ := migrate.Load(migrations.FS())
	if len(res.Applied) != len(all) || res.Current != 0 {
		t.Fatalf("first Up applied %d, current %d; want %d, 0", len(res.Applied), res.Current, len(all))
	}
	got := strings.Join(tables(t, cfg.Addr, cfg.Database), ",")
	for _, want := range []string{"acquisition_costs", "bookings", "businesses", "commissions", "dlq", "enrollments",
		"feedback", "payouts", "referral_owners", "retention_costs", "schema_migrations", "sink_progress"} {
		if !strings.Contains(","+got+",", ","+want+",") {
			t.Errorf("table %s missing after Up; have %s", want, got)
		}
	}

	res, err = migrate.Up(ctx, cfg, migrations.FS())
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if len(res.Applied) != 0 || res.Current != len(all) {
		t.Fatalf("second Up applied %d, current %d; want a no-op", len(res.Applied), res.Current)
	}
}

func TestUpCreatesDatabase(t *testing.T) {
	addr := itest.ClickHouse(t)
	db := itest.Database(t) + "_new" // not created by itest
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	// One cleanup that drops, then closes: a deferred Close ran before the cleanup, so the
	// DROP failed on a closed connection and every run left its database behind.
	t.Cleanup(func() {
		if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("dropping %s: %v", db, err)
		}
		_ = conn.Close()
	})
	fsys := fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a;\n")}}
	if _, err := migrate.Up(context.Background(), migrate.Config{Addr: addr, Database: db}, fsys); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, addr, db); strings.Join(got, ",") != "schema_migrations,t" {
		t.Fatalf("tables = %v", got)
	}
}

// createA is a migration file creating table a.
const createA = "CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x;\n"

func TestUpErrors(t *testing.T) {
	addr := itest.ClickHouse(t)
	ctx := context.Background()
	up := func(db string, fsys fstest.MapFS) (migrate.Result, error) {
		return migrate.Up(ctx, migrate.Config{Addr: addr, Database: db}, fsys)
	}

	t.Run("broken statement names file and statement", func(t *testing.T) {
		db := itest.Database(t)
		fsys := fstest.MapFS{
			"0001_ok.sql": {Data: []byte(createA)},
			"0002_broken.sql": {Data: []byte("-- fine first\nCREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x;\n\n" +
				"CREATE TABLE IF NOT EXISTS c (x NoSuchType)\nENGINE = MergeTree ORDER BY x;\n")},
			"0003_after.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS d (x UInt8) ENGINE = MergeTree ORDER BY x;\n")},
		}
		res, err := up(db, fsys)
		if err == nil {
			t.Fatal("Up succeeded on a broken migration")
		}
		for _, want := range []string{"0002_broken.sql", "statement 2", "line 4", "CREATE TABLE IF NOT EXISTS c (x NoSuchType)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		if len(res.Applied) != 1 || res.Applied[0].Name != "0001_ok" {
			t.Errorf("applied before failure = %v, want 0001_ok only", res.Applied)
		}
		if got := strings.Join(tables(t, addr, db), ","); got != "a,b,schema_migrations" {
			t.Errorf("tables after failure = %s (0003 must not run)", got)
		}
		// Fixing the file lets the next run finish: 0002 is re-run from its start.
		fsys["0002_broken.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x;\nCREATE TABLE IF NOT EXISTS c (x UInt8) ENGINE = MergeTree ORDER BY x;\n")}
		res, err = up(db, fsys)
		if err != nil || len(res.Applied) != 2 || res.Current != 1 {
			t.Fatalf("Up after fix: %+v, %v", res, err)
		}
	})

	t.Run("ADD COLUMN of a file applied half-way", func(t *testing.T) {
		db := itest.Database(t)
		fsys := fstest.MapFS{
			"0001_a.sql": {Data: []byte(createA)},
			"0002_add.sql": {Data: []byte("ALTER TABLE a ADD COLUMN y Int64 DEFAULT 1;\n\n" +
				"ALTER TABLE a ADD COLUMN z Int64 DEFAULT 2 AFTER y;\n")},
		}
		// A run that died after the first ALTER: y exists, nothing recorded for 0002.
		if _, err := up(db, fstest.MapFS{"0001_a.sql": fsys["0001_a.sql"]}); err != nil {
			t.Fatal(err)
		}
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Exec(ctx, "ALTER TABLE a ADD COLUMN y Int64 DEFAULT 1"); err != nil {
			t.Fatal(err)
		}
		res, err := up(db, fsys)
		if err != nil || len(res.Applied) != 1 {
			t.Fatalf("Up over the half-applied file: %+v, %v", res, err)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'a' AND name IN ('y', 'z')").Scan(&n); err != nil || n != 2 {
			t.Fatalf("columns y, z: %d (%v), want 2", n, err)
		}
		// Any other failure of an ADD COLUMN still stops Up.
		fsys["0003_bad.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE a ADD COLUMN w NoSuchType;\n")}
		if _, err := up(db, fsys); err == nil {
			t.Fatal("Up succeeded on an ADD COLUMN of an unknown type")
		}
	})

	t.Run("changed applied file", func(t *testing.T) {
		db := itest.Database(t)
		fsys := fstest.MapFS{"0001_a.sql": {Data: []byte(createA)}}
		if _, err := up(db, fsys); err != nil {
			t.Fatal(err)
		}
		fsys["0001_a.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS a (x UInt16) ENGINE = MergeTree ORDER BY x;\n")}
		_, err := up(db, fsys)
		if err == nil || !strings.Contains(err.Error(), "0001_a.sql") || !strings.Contains(err.Error(), "changed after it was applied") {
			t.Fatalf("err = %v, want a changed-file error", err)
		}
	})

	t.Run("unknown recorded version", func(t *testing.T) {
		db := itest.Database(t)
		fsys := fstest.MapFS{
			"0001_a.sql": {Data: []byte("SELECT 1;\n")},
			"0002_b.sql": {Data: []byte("SELECT 2;\n")},
		}
		if _, err := up(db, fsys); err != nil {
			t.Fatal(err)
		}
		delete(fsys, "0002_b.sql")
		_, err := up(db, fsys)
		if err == nil || !strings.Contains(err.Error(), "0002_b") {
			t.Fatalf("err = %v, want an unknown-version error", err)
		}
	})
}

// TestViewsHaveNoUnion pins an 18.16 hazard (docs/DESIGN.md, "One stream for retention
// spend (0138)"): the branches of a UNION ALL run on parallel threads, and two branches that
// analyse their subqueries at once race on the query's shared sample-block cache; such a
// query can spin forever, deaf to KILL QUERY, until the server restarts. So no view the
// migrations leave behind may hold a union (the server stores each view's query formatted,
// comments dropped, keywords in capitals). The pack's own queries are checked in
// sql/queries (TestNoUnion).
func TestViewsHaveNoUnion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, db, conn := itest.MigratedDatabase(ctx, t)

	if n := itest.Count(ctx, t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND engine = 'View'"); n < 10 {
		t.Fatalf("%d plain views after the migrations, want the pack's (at least 10): the check below would pass on nothing", n)
	}
	rows, err := conn.Query(ctx, "SELECT name, create_table_query FROM system.tables WHERE database = ? AND engine = 'View' ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, create string
		if err := rows.Scan(&name, &create); err != nil {
			t.Fatal(err)
		}
		// the query names the test's database, whose name comes from the test's: not SQL
		if unionWord.MatchString(strings.ReplaceAll(create, db, "")) {
			t.Errorf("view %s holds a UNION: on 18.16 its branches can hang the query (re-create it as one chain of joins)", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

var unionWord = regexp.MustCompile(`(?i)\bUNION\b`)
