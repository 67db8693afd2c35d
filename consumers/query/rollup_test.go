package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/taskole/revshare/consumers/itest"
	"github.com/taskole/revshare/consumers/migrate"
	"github.com/taskole/revshare/sql/migrations"
)

// rollupSnapshots are the finalized contents of every rollup (0101, 0120), and the facts
// views read from them, each as sorted text: what a rebuild must reproduce exactly.
var rollupSnapshots = map[string]string{
	"booking_rollup": `SELECT booking_id, argMinIfMerge(client_state), argMinIfMerge(provider_state),
        minIfMerge(completed_state), argMinIfMerge(currency_state), argMinIfMerge(amount_state),
        arraySort(groupUniqArrayIfMerge(refunds_state)), maxMerge(completed_flag), maxMerge(cancelled_flag)
        FROM booking_rollup GROUP BY booking_id ORDER BY booking_id`,
	"owner_rollup": `SELECT client_id, argMaxMerge(owner_state), argMaxMerge(owned_since_state),
        argMaxMerge(source_state), argMaxMerge(event_id_state)
        FROM owner_rollup GROUP BY client_id ORDER BY client_id`,
	"commission_rollup": `SELECT booking_id, owner_business_id, arraySort(groupUniqArrayMerge(entries_state))
        FROM commission_rollup GROUP BY booking_id, owner_business_id ORDER BY booking_id, owner_business_id`,
	"booking_events":    `SELECT DISTINCT * FROM booking_events ORDER BY _topic, _partition, _offset`,
	"booking_positions": `SELECT DISTINCT * FROM booking_positions ORDER BY position`,
	"feedback_monthly": `SELECT business_id, month, kind, bucket, uniqExactMerge(answers)
        FROM feedback_monthly GROUP BY business_id, month, kind, bucket ORDER BY business_id, month, kind, bucket`,
	"purchases":     `SELECT * FROM purchases ORDER BY booking_id`,
	"client_owners": `SELECT * FROM client_owners ORDER BY client_id`,
}

// TestRollupsRebuildEqualsIncremental loads the generated marketplace the way a sink under
// faults would (small batches in shuffled order, some batches inserted twice, as after a
// crash between insert and progress record), so the materialized views build the rollups
// incrementally; then checks that (1) the purchases and owners read from the rollups equal
// 0102's definitions over the raw tables, (2) merging every part changes nothing, and (3)
// `taskole migrate --rebuild-rollups` (migrate.Rebuild) recomputes every rollup to exactly
// the incremental result.
func TestRollupsRebuildEqualsIncremental(t *testing.T) {
	addr := itest.ClickHouse(t)
	db := itest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := migrate.Config{Addr: addr, Database: db}
	if _, err := migrate.Up(ctx, cfg, migrations.FS()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch := gateHTTP(addr, db)

	w := generate(20, 24, 800)
	twice := loadInBatches(ctx, t, conn, w, 97)
	if twice == 0 {
		t.Fatal("no batch was inserted twice: the test would not exercise duplicate inserts")
	}

	snap := func(label string) map[string]string {
		out := map[string]string{}
		for name, sql := range rollupSnapshots {
			s, err := ch.text(ctx, sql)
			if err != nil {
				t.Fatalf("%s: reading %s: %v", label, name, err)
			}
			out[name] = s
		}
		return out
	}
	incremental := snap("incremental")
	for _, name := range []string{"booking_rollup", "owner_rollup", "commission_rollup", "purchases", "client_owners"} {
		if n := strings.Count(incremental[name], "\n"); n < 100 {
			t.Fatalf("%s has %d rows: the generated data did not reach it", name, n)
		}
	}

	// (1) The facts from the rollups are 0102's facts from the raw tables.
	for view, file := range map[string]string{"purchases": "0102_ledger_refused", "client_owners": "0100_facts"} {
		raw := rawDefinition(t, file, view)
		key := "booking_id"
		if view == "client_owners" {
			key = "client_id"
		}
		want, err := ch.text(ctx, "SELECT * FROM ("+raw+") ORDER BY "+key)
		if err != nil {
			t.Fatalf("evaluating %s's %s over the raw tables: %v", file, view, err)
		}
		if want != incremental[view] {
			t.Errorf("%s from the rollups differs from %s's definition over the raw tables:\n%s", view, file, firstDiff(want, incremental[view]))
		}
	}

	// (2) Background merges do not change a rollup.
	for _, table := range []string{"booking_rollup", "owner_rollup", "commission_rollup", "feedback_monthly"} {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
			t.Fatalf("optimizing %s: %v", table, err)
		}
	}
	merged := snap("merged")
	for name := range rollupSnapshots {
		if merged[name] != incremental[name] {
			t.Errorf("%s changed when its parts merged:\n%s", name, firstDiff(incremental[name], merged[name]))
		}
	}

	// (3) Rebuild = incremental.
	n, err := migrate.Rebuild(ctx, cfg, migrations.FS())
	if err != nil {
		t.Fatalf("rebuilding: %v", err)
	}
	if n == 0 {
		t.Fatal("rebuild ran no statement")
	}
	rebuilt := snap("rebuilt")
	for name := range rollupSnapshots {
		if rebuilt[name] != incremental[name] {
			t.Errorf("%s after a rebuild differs from the incremental one:\n%s", name, firstDiff(incremental[name], rebuilt[name]))
		}
	}
}

// loadInBatches writes the world's raw rows in batches of up to 40 rows, tables interleaved
// and rows shuffled, re-inserting about one batch in every dupEvery a second time. It
// returns the number of batches inserted twice.
func loadInBatches(ctx context.Context, t *testing.T, conn driver.Conn, w *world, dupEvery int) int {
	t.Helper()
	type batch struct {
		table string
		rows  [][]any
	}
	rng := rand.New(rand.NewPCG(11, 13))
	var batches []batch
	tables := make([]string, 0, len(w.raw))
	for table := range w.raw {
		tables = append(tables, table)
	}
	sort.Strings(tables)
	for _, table := range tables {
		rows := append([][]any(nil), w.raw[table]...)
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for len(rows) > 0 {
			n := min(len(rows), 1+rng.IntN(40))
			batches = append(batches, batch{table, rows[:n]})
			rows = rows[n:]
		}
	}
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	insert := func(b batch) {
		ins, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", b.table, joinCols(rawColumns[b.table])))
		if err != nil {
			t.Fatalf("preparing insert into %s: %v", b.table, err)
		}
		for _, r := range b.rows {
			if err := ins.Append(r...); err != nil {
				t.Fatalf("appending to %s: %v", b.table, err)
			}
		}
		if err := ins.Send(); err != nil {
			t.Fatalf("inserting into %s: %v", b.table, err)
		}
	}
	twice := 0
	for _, b := range batches {
		insert(b)
		if rng.IntN(dupEvery) == 0 {
			insert(b)
			twice++
		}
	}
	ins, err := conn.PrepareBatch(ctx, "INSERT INTO sector_settings (sector, activity_window_days, updated_at)")
	if err != nil {
		t.Fatal(err)
	}
	for sector, days := range w.Windows {
		if err := ins.Append(sector, uint16(days), genStart); err != nil {
			t.Fatal(err)
		}
	}
	if err := ins.Send(); err != nil {
		t.Fatal(err)
	}
	return twice
}

// rawDefinition returns the SELECT of view in migration file (its CREATE VIEW statement).
func rawDefinition(t *testing.T, file, view string) string {
	t.Helper()
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	head := "CREATE VIEW IF NOT EXISTS " + view + " AS"
	for _, m := range ms {
		if m.Name != file {
			continue
		}
		for _, s := range migrate.Split(m.SQL) {
			if strings.HasPrefix(s.SQL, head) {
				return strings.TrimSpace(strings.TrimPrefix(s.SQL, head))
			}
		}
	}
	t.Fatalf("%s.sql has no %q", file, head)
	return ""
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var a, b string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			b = gl[i]
		}
		if a != b {
			return fmt.Sprintf("line %d (of %d / %d):\n  want %q\n  got  %q", i+1, len(wl), len(gl), a, b)
		}
	}
	return "(equal)"
}
