package migrate_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// unaliased undoes the one difference superseded.txt documents for its files ("joined
// subqueries without aliases"): the current files name each side of a JOIN `) AS lhs` and
// `) AS rhs`, the earlier versions did not.
var unaliased = strings.NewReplacer(") AS lhs", ")", ") AS rhs ", ") ")

// tupleKeyed undoes the second difference ("client_owners' argMax by the (_partition,
// _offset) tuple"): the current client_owners orders a client's records by one UInt64.
var tupleKeyed = strings.NewReplacer(`argMax(owner_business_id, written) AS owner_business_id,
        argMax(owned_since, written) AS owned_since,
        argMax(toString(source), written) AS source,
        argMax(event_id, written) AS event_id
    FROM
    (
        -- (_partition, _offset) as one UInt64 in the same order (an offset stays below 2^40):
        -- argMax by a tuple cost 2.5-3x as much on 18.16.
        SELECT client_id, owner_business_id, owned_since, source, event_id,
            bitShiftLeft(toUInt64(_partition), 40) + _offset AS written
        FROM referral_owners
    ) AS owner_records`, `argMax(owner_business_id, (_partition, _offset)) AS owner_business_id,
        argMax(owned_since, (_partition, _offset)) AS owned_since,
        argMax(toString(source), (_partition, _offset)) AS source,
        argMax(event_id, (_partition, _offset)) AS event_id
    FROM referral_owners`)

// lastByGroup undoes the third difference ("the last purchase per (client, month) by a GROUP
// BY over purchase_instants"): 0138's first version, before the session that wrote it ended.
var lastByGroup = strings.NewReplacer(`
--
-- The last purchase of each (client, month) of those businesses' clients comes from
-- client_purchase_times (0137: each client's purchase seconds, merged in the array after a
-- parallel GROUP BY) instead of a GROUP BY over purchase_instants, whose FINAL read is one
-- stream on 18.16: the same seconds (merged purchases > 0), so the same last one per month,
-- 1.2 s less at 1M clients (docs/BENCHMARKS.md, 2026-12-04 22:40). This version replaced
-- the first one of this file before the session that wrote both ended (superseded.txt).
`, "\n", `                        -- per (client, month) the last purchase: the last of the client's
                        -- sorted seconds in each month (the month changes after it)
                        SELECT client_id, month, last_at
                        FROM
                        (
                            SELECT
                                client_id,
                                times,
                                arrayMap(t -> toStartOfMonth(t), times) AS months,
                                arrayMap((m, n) -> m != n, months, arrayPushBack(arrayPopFront(months), toDate('1970-01-01'))) AS ends
                            FROM client_purchase_times
                            WHERE client_id IN
                            (
                                SELECT client_id
                                FROM client_owners
                                WHERE owner_business_id IN
                                (
                                    SELECT business_id
                                    FROM retention_costs
                                    WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                                )
                            )
                        ) AS pt
                        ARRAY JOIN arrayFilter((m, e) -> e, months, ends) AS month, arrayFilter((t, e) -> e, times, ends) AS last_at
`, `                        SELECT client_id, toStartOfMonth(completed_at) AS month, max(completed_at) AS last_at
                        FROM purchase_instants
                        WHERE client_id IN
                        (
                            SELECT client_id
                            FROM client_owners
                            WHERE owner_business_id IN
                            (
                                SELECT business_id
                                FROM retention_costs
                                WHERE event_id IN (SELECT event_id FROM retention_costs WHERE client_id = '')
                            )
                        )
                        GROUP BY client_id, month
`)

// earlierVersions derives the earlier versions of migration m from its current text, the
// oldest first (each difference undone in turn). The checksums of superseded.txt prove the
// derivation (TestEmbeddedSuperseded).
func earlierVersions(m migrate.Migration) [][]byte {
	var out [][]byte
	seen := map[string]bool{m.SQL: true}
	for _, v := range []string{unaliased.Replace(tupleKeyed.Replace(m.SQL)), tupleKeyed.Replace(m.SQL), lastByGroup.Replace(m.SQL)} {
		if !seen[v] {
			seen[v] = true
			out = append(out, []byte(v))
		}
	}
	return out
}

// earlierVersion is the oldest version of m.
func earlierVersion(m migrate.Migration) []byte { return earlierVersions(m)[0] }

// TestEmbeddedSuperseded checks the project's table: every listed checksum is that of the
// earlier version derived from the current file, and that version differs from the current
// file only in its plain views (the only statements an upgrade re-runs).
func TestEmbeddedSuperseded(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		derived := map[string][]byte{}
		for _, b := range earlierVersions(m) {
			derived[sum(b)] = b
		}
		for _, c := range m.Superseded {
			n++
			b, ok := derived[c]
			if !ok {
				t.Errorf("%s: no derived earlier version has the checksum %s the table lists", m.Name, c[:12])
				continue
			}
			was, is := nonViews(string(b)), nonViews(m.SQL)
			if strings.Join(was, "\n;\n") != strings.Join(is, "\n;\n") {
				t.Errorf("%s: the earlier version differs outside plain views; add a new migration instead", m.Name)
			}
		}
		if len(m.Superseded) > 0 && len(m.Superseded) != len(derived) {
			t.Errorf("%s: %d earlier versions derived, %d listed", m.Name, len(derived), len(m.Superseded))
		}
	}
	if n == 0 {
		t.Fatal("no superseded checksums: the table is not read")
	}
}

func nonViews(sql string) []string {
	var out []string
	for _, s := range migrate.Split(sql) {
		if !createView.MatchString(s.SQL) {
			out = append(out, s.SQL)
		}
	}
	return out
}

// earlier returns the embedded migrations with the earlier versions of the named files.
//
// through, when not empty, names the last file the earlier deployment had: later files are
// left out (they came after it) and the second return counts them (Up applies them).
func earlier(t *testing.T, through string, names ...string) (fstest.MapFS, int) {
	t.Helper()
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{} // without superseded.txt: the binaries that applied them had none
	n, later := 0, 0
	for _, m := range ms {
		if through != "" && m.Name+".sql" > through {
			later++
			continue
		}
		out[m.Name+".sql"] = &fstest.MapFile{Data: []byte(m.SQL)}
		if slices.Contains(names, m.Name+".sql") && len(m.Superseded) > 0 {
			out[m.Name+".sql"].Data = earlierVersion(m)
			n++
		}
	}
	if n != len(names) {
		t.Fatalf("earlier versions of %v: %d of them are superseded migrations", names, n)
	}
	return out, later
}

func viewQuery(t *testing.T, conn clickhouse.Conn, db, name string) string {
	t.Helper()
	var q string
	if err := conn.QueryRow(context.Background(), "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", db, name).Scan(&q); err != nil {
		t.Fatalf("reading the definition of %s: %v", name, err)
	}
	return q
}

// TestUpgradeSuperseded applies the earlier versions of 0100 and 0102 (as existing
// deployments did), or of 0138, then the current files: Up accepts the superseded checksums,
// re-creates the views (later files winning) and records the current checksums; a second Up
// is a no-op.
func TestUpgradeSuperseded(t *testing.T) {
	addr := itest.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
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
	for _, tt := range []struct {
		name          string
		earlier       []string
		through       string // the earlier deployment's last file ("": it had them all)
		upgraded      []string
		before, after func(t *testing.T, db string)
		query         string // a view to read once upgraded
	}{
		{"both files", []string{"0100_facts.sql", "0102_ledger_refused.sql"}, "", []string{"0100_facts", "0102_ledger_refused"},
			unaliasedBefore, aliasedAfter, "purchases"},
		// Only 0100 was superseded: re-creating its purchases must not undo 0102's.
		{"earlier file only", []string{"0100_facts.sql"}, "", []string{"0100_facts"}, unaliasedBefore, aliasedAfter, "purchases"},
		// 0138's first version was replaced in the session that wrote it, before any later
		// file existed: that deployment ends at 0138, and the upgrade also applies the rest.
		{"0138 only", []string{"0138_cost_allocations_one_stream.sql"}, "0138_cost_allocations_one_stream.sql",
			[]string{"0138_cost_allocations_one_stream"},
			groupedBefore, arraysAfter, "retention_cost_allocations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := itest.Database(t)
			cfg := migrate.Config{Addr: addr, Database: db}
			fsys, later := earlier(t, tt.through, tt.earlier...)
			if _, err := migrate.Up(ctx, cfg, fsys); err != nil {
				t.Fatalf("applying the earlier versions: %v", err)
			}
			tt.before(t, db)
			res, err := migrate.Up(ctx, cfg, migrations.FS())
			if err != nil {
				t.Fatalf("upgrading: %v", err)
			}
			var got []string
			for _, m := range res.Upgraded {
				got = append(got, m.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.upgraded, ",") || len(res.Applied) != later {
				t.Fatalf("Upgraded = %v, Applied = %d, want %v and %d", got, len(res.Applied), tt.upgraded, later)
			}
			tt.after(t, db)
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
