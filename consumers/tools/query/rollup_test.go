package query_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

// rollupSnapshots are the finalized contents of every rollup (0101, 0131, 0133, 0135), each as
// sorted text: what a rebuild must reproduce exactly. A summed cell that is zero in every
// column is no cell (SummingMergeTree drops it when it merges; an unmerged part may still
// hold it); current_owners is read as the pack reads it, with FINAL.
var rollupSnapshots = map[string]string{
	"current_owners": `SELECT client_id, owner_business_id, owned_since, source, event_id, written
        FROM current_owners FINAL ORDER BY client_id`,
	"feedback_monthly": `SELECT business_id, month, kind, bucket, uniqExactMerge(answers)
        FROM feedback_monthly GROUP BY business_id, month, kind, bucket ORDER BY business_id, month, kind, bucket`,
	"purchase_months_rollup": `SELECT client_id, month, currency, provider_business_id, commission_owner,
            sum(purchases) AS p, sum(amount) AS a, sum(refunded) AS r, sum(commission) AS c
        FROM purchase_months_rollup GROUP BY client_id, month, currency, provider_business_id, commission_owner
        HAVING p != 0 OR a != 0 OR r != 0 OR c != 0
        ORDER BY client_id, month, currency, provider_business_id, commission_owner`,
	"purchase_times_rollup": `SELECT client_id, completed_at, sum(purchases) AS p
        FROM purchase_times_rollup GROUP BY client_id, completed_at HAVING p != 0 ORDER BY client_id, completed_at`,
	"client_months_rollup": `SELECT client_id, month, sum(purchases) AS p
        FROM client_months_rollup GROUP BY client_id, month HAVING p != 0 ORDER BY client_id, month`,
}

// rollupAgreement pairs what the query pack reads from the purchase rollups (views
// purchase_months and activity_instants of 0131, purchase_cells, purchase_instants and
// client_months of 0132, purchase_cells_unmerged of 0134, client_month_purchases and
// client_months of 0135, and the rollups under them, fed from the ledger's purchase facts) with the
// same figures from the purchases view over the raw input tables (0100, 0102): equal, cell
// by cell, when the facts are the judgement of the raw events.
var rollupAgreement = []struct{ name, rollup, raw string }{
	{"purchase_months",
		`SELECT client_id, month, currency, provider_business_id, purchases, amount, refunded, net_value, commission, direct
        FROM purchase_months ORDER BY client_id, month, currency, provider_business_id`,
		`SELECT client_id, month, currency, provider_business_id, count(), sum(amount), sum(refunded), sum(net_value), sum(commission), any(direct)
        FROM purchases GROUP BY client_id, month, currency, provider_business_id ORDER BY client_id, month, currency, provider_business_id`},
	{"purchase_times_rollup",
		`SELECT client_id, completed_at, sum(purchases) AS n FROM purchase_times_rollup
        WHERE client_id IN (SELECT client_id FROM client_owners)
        GROUP BY client_id, completed_at HAVING n > 0 ORDER BY client_id, completed_at`,
		`SELECT client_id, completed_at, count() FROM purchases GROUP BY client_id, completed_at ORDER BY client_id, completed_at`},
	{"activity_instants",
		`SELECT client_id, month, completed_at, owner_business_id FROM activity_instants ORDER BY client_id, month, completed_at`,
		`SELECT client_id, month, arrayJoin(arrayDistinct([first_at, last_at])) AS at, owner
        FROM (SELECT client_id, month, min(completed_at) AS first_at, max(completed_at) AS last_at, any(owner_business_id) AS owner
              FROM purchases GROUP BY client_id, month)
        ORDER BY client_id, month, at`},
	// 0132's views read the rollups with FINAL. purchase_cells is not filtered by purchases:
	// every row that adds to a sum must belong to a (client, month, currency, provider) with
	// a purchase (the queries sum its rows unfiltered), so a group of money without purchases
	// would show here as a row too many.
	{"purchase_cells",
		`SELECT client_id, month, currency, provider_business_id, sum(purchases), sum(net_value), sum(commission), any(direct)
        FROM purchase_cells WHERE purchases > 0 OR commission != 0 OR net_value != 0
        GROUP BY client_id, month, currency, provider_business_id ORDER BY client_id, month, currency, provider_business_id`,
		`SELECT client_id, month, currency, provider_business_id, count(), sum(net_value), sum(commission), any(direct)
        FROM purchases GROUP BY client_id, month, currency, provider_business_id ORDER BY client_id, month, currency, provider_business_id`},
	// purchase_cells_unmerged (0134) reads the rollup without FINAL, as loaded here: in
	// unmerged parts, some rows of a cell in one part and some in another, so only sums over
	// a grouping mean anything. Grouped, they are purchase_cells' figures.
	{"purchase_cells_unmerged",
		`SELECT client_id, month, currency, provider_business_id, sum(purchases) AS p, sum(net_value) AS v, sum(commission) AS c, any(direct)
        FROM purchase_cells_unmerged
        GROUP BY client_id, month, currency, provider_business_id HAVING p != 0 OR v != 0 OR c != 0
        ORDER BY client_id, month, currency, provider_business_id`,
		`SELECT client_id, month, currency, provider_business_id, count(), sum(net_value), sum(commission), any(direct)
        FROM purchases GROUP BY client_id, month, currency, provider_business_id ORDER BY client_id, month, currency, provider_business_id`},
	{"purchase_instants",
		`SELECT client_id, completed_at, purchases FROM purchase_instants
        WHERE client_id IN (SELECT client_id FROM client_owners) ORDER BY client_id, completed_at`,
		`SELECT client_id, completed_at, count() FROM purchases GROUP BY client_id, completed_at ORDER BY client_id, completed_at`},
	// client_months_rollup (0135): per (client, month) the number of purchases, read with
	// FINAL by client_month_purchases (retention_clients, repeat_purchase_rate) and by
	// client_months (the lifespans of order_metrics and net_clv).
	{"client_months_rollup",
		`SELECT client_id, month, sum(purchases) AS n FROM client_months_rollup
        WHERE client_id IN (SELECT client_id FROM client_owners)
        GROUP BY client_id, month HAVING n > 0 ORDER BY client_id, month`,
		`SELECT client_id, month, count() FROM purchases GROUP BY client_id, month ORDER BY client_id, month`},
	{"client_month_purchases",
		`SELECT client_id, month, purchases, owner_business_id, cohort, sector FROM client_month_purchases ORDER BY client_id, month`,
		`SELECT client_id, month, count(), any(owner_business_id), any(cohort), any(sector) FROM purchases GROUP BY client_id, month ORDER BY client_id, month`},
	// Since 0137 client_months and client_purchase_times merge each client's unmerged rows
	// inside one array instead of reading with FINAL (checkUnmergedRuns: the load leaves keys
	// whose rows sit in several parts, some summing to zero).
	{"client_months",
		`SELECT client_id, months, owner_business_id FROM client_months ORDER BY client_id`,
		`SELECT client_id, arraySort(groupUniqArray(month)), any(owner_business_id) FROM purchases GROUP BY client_id ORDER BY client_id`},
	{"client_purchase_times",
		`SELECT client_id, times, counts, first_at, last_at FROM client_purchase_times
        WHERE client_id IN (SELECT client_id FROM client_owners) ORDER BY client_id`,
		`SELECT client_id, arrayMap(c -> tupleElement(c, 1), cells), arrayMap(c -> tupleElement(c, 2), cells),
            tupleElement(cells[1], 1), tupleElement(cells[-1], 1)
        FROM
        (
            SELECT client_id, arraySort(groupArray((completed_at, n))) AS cells
            FROM (SELECT client_id, completed_at, count() AS n FROM purchases GROUP BY client_id, completed_at) AS p
            GROUP BY client_id
        ) AS c
        ORDER BY client_id`},
	// client_owners reads current_owners FINAL (0133); the raw side is 0100's definition, the
	// argMax by (_partition, _offset) over every stored referral_owners record (the loaded
	// records arrive shuffled, some twice, and some clients have a corrected owner whose
	// first record has the later owned_since).
	{"client_owners",
		`SELECT client_id, owner_business_id, owned_since, cohort, source, event_id, sector, activity_window_days
        FROM client_owners ORDER BY client_id`,
		`SELECT client_id, owner_business_id, owned_since, toStartOfMonth(owned_since), source, event_id, sector,
            if(activity_window_days = 0, 60, activity_window_days)
        FROM
        (
            SELECT client_id, argMax(owner_business_id, written) AS owner_business_id, argMax(owned_since, written) AS owned_since,
                argMax(toString(source), written) AS source, argMax(event_id, written) AS event_id
            FROM (SELECT *, bitShiftLeft(toUInt64(_partition), 40) + _offset AS written FROM referral_owners) AS r
            GROUP BY client_id
        ) AS lhs
        ANY LEFT JOIN (SELECT business_id AS owner_business_id, sector, activity_window_days FROM business_profiles) AS rhs
        USING (owner_business_id)
        ORDER BY client_id`},
}

// TestRollupsRebuildEqualsIncremental loads the generated marketplace the way a sink under
// faults would (small batches in shuffled order, some batches inserted twice, as after a
// crash between insert and progress record), so the materialized views build the rollups
// incrementally; then checks that (1) the rollups agree with the raw tables, (2) merging
// every part changes nothing, (3) `taskole migrate --rebuild-rollups` (migrate.Rebuild)
// recomputes every rollup to exactly the incremental result, and (4) a rebuild repairs
// purchase facts stored twice.
func TestRollupsRebuildEqualsIncremental(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	addr, db, conn := itest.MigratedDatabase(ctx, t)
	cfg := migrate.Config{Addr: addr, Database: db}
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
	for name := range rollupSnapshots {
		if n := strings.Count(incremental[name], "\n"); n < 100 {
			t.Fatalf("%s has %d rows: the generated data did not reach it", name, n)
		}
	}
	checkUnmergedRuns(ctx, t, ch)
	checkRollupAgreement(ctx, t, ch)
	checkCellsNonNegative(ctx, t, ch)

	// (1) The rollup counts every answer once, whatever was inserted twice.
	got, err := ch.text(ctx, "SELECT sum(n) FROM (SELECT uniqExactMerge(answers) AS n FROM feedback_monthly GROUP BY business_id, month, kind, bucket)")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ch.text(ctx, "SELECT uniqExact(event_id) FROM feedback")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("feedback_monthly counts %s answers, the raw table holds %s", strings.TrimSpace(got), strings.TrimSpace(want))
	}

	// (2) Background merges do not change a rollup.
	for _, table := range []string{"feedback_monthly", "purchase_months_rollup", "purchase_times_rollup", "client_months_rollup", "current_owners"} {
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

	// (4) A purchase fact stored twice (the one window the sink's guard leaves) is counted
	// twice by the views, and a rebuild, which counts each fact_id once, repairs it.
	if err := conn.Exec(ctx, "INSERT INTO purchase_facts SELECT * FROM purchase_facts WHERE purchases = 1 LIMIT 50"); err != nil {
		t.Fatalf("duplicating purchase facts: %v", err)
	}
	doubled := snap("doubled")
	for _, name := range []string{"purchase_months_rollup", "purchase_times_rollup", "client_months_rollup"} {
		if doubled[name] == incremental[name] {
			t.Fatalf("purchase facts stored twice did not change %s: the check below proves nothing for it", name)
		}
	}
	if _, err := migrate.Rebuild(ctx, cfg, migrations.FS()); err != nil {
		t.Fatalf("rebuilding after duplicates: %v", err)
	}
	repaired := snap("repaired")
	for name := range rollupSnapshots {
		if repaired[name] != incremental[name] {
			t.Errorf("%s after a rebuild over duplicated facts differs from the exact one:\n%s", name, firstDiff(incremental[name], repaired[name]))
		}
	}
	checkOwnersIdempotent(ctx, t, conn, ch, incremental["current_owners"])
}

// checkOwnersIdempotent: current_owners (0133) holds whole records, not sums, so its
// backfill run once more over what is there (a rebuild overlapping the sink, a migration file
// re-run after a failure) changes nothing read with FINAL; and the data must hold ownership
// corrections, or the check of client_owners proves little.
func checkOwnersIdempotent(ctx context.Context, t *testing.T, conn driver.Conn, ch chHTTP, want string) {
	t.Helper()
	corrected, err := ch.text(ctx, "SELECT count() FROM (SELECT client_id FROM referral_owners GROUP BY client_id HAVING uniqExact(owner_business_id) > 1)")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(corrected) == "0" {
		t.Fatal("no client has a corrected owner: the check of client_owners proves little")
	}
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := migrate.RebuildPlan(ms)
	if err != nil {
		t.Fatal(err)
	}
	backfill := ""
	for _, s := range plan {
		if strings.HasPrefix(s.SQL, "INSERT INTO current_owners ") {
			backfill = s.SQL
		}
	}
	if backfill == "" {
		t.Fatal("the rebuild plan has no backfill of current_owners")
	}
	if err := conn.Exec(ctx, backfill); err != nil {
		t.Fatalf("backfilling current_owners again: %v", err)
	}
	got, err := ch.text(ctx, rollupSnapshots["current_owners"])
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("current_owners changed when its backfill ran again over it:\n%s", firstDiff(want, got))
	}
}

// checkUnmergedRuns fails the test unless the load left, in client_months_rollup and in
// purchase_times_rollup, keys whose rows are spread over several rows (parts not merged) and
// keys whose rows sum to zero (a purchase and its cancellation in different parts): what the
// array merges of 0137 must sum, and drop, for the agreement check to mean anything.
func checkUnmergedRuns(ctx context.Context, t *testing.T, ch chHTTP) {
	t.Helper()
	for _, c := range []struct{ table, key string }{
		{"client_months_rollup", "month"},
		{"purchase_times_rollup", "completed_at"},
	} {
		got, err := ch.text(ctx, fmt.Sprintf(`SELECT countIf(rows > 1), countIf(rows > 1 AND n = 0)
            FROM (SELECT count() AS rows, sum(purchases) AS n FROM %s GROUP BY client_id, %s)`, c.table, c.key))
		if err != nil {
			t.Fatal(err)
		}
		var spread, zero int
		if _, err := fmt.Sscan(got, &spread, &zero); err != nil {
			t.Fatalf("reading the runs of %s: %q: %v", c.table, got, err)
		}
		if spread == 0 || zero == 0 {
			t.Fatalf("%s: %d keys with several rows, %d of them summing to 0: the load does not exercise the array merges", c.table, spread, zero)
		}
	}
}

// checkCellsNonNegative pins what makes the panels' HAVING sum(purchases) > 0 over
// purchase_cells_unmerged mean "a cell of the group has a purchase" (0134): no cell of
// purchase_months_rollup sums to fewer than 0 purchases, though the facts hold cancellations.
func checkCellsNonNegative(ctx context.Context, t *testing.T, ch chHTTP) {
	t.Helper()
	cancels, err := ch.text(ctx, "SELECT count() FROM purchase_facts WHERE purchases < 0")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cancels) == "0" {
		t.Fatal("no purchase fact cancels a purchase: the check below proves nothing")
	}
	negative, err := ch.text(ctx, `SELECT count() FROM (SELECT sum(purchases) AS p FROM purchase_months_rollup
        GROUP BY client_id, month, currency, provider_business_id, commission_owner HAVING p < 0)`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(negative) != "0" {
		t.Errorf("%s cells of purchase_months_rollup sum to fewer than 0 purchases (%s cancelling facts)", strings.TrimSpace(negative), strings.TrimSpace(cancels))
	}
}

// checkRollupAgreement fails the test where a purchase rollup and the raw tables disagree
// (rollupAgreement).
func checkRollupAgreement(ctx context.Context, t *testing.T, ch chHTTP) {
	t.Helper()
	for _, c := range rollupAgreement {
		got, err := ch.text(ctx, c.rollup)
		if err != nil {
			t.Fatalf("%s: reading the rollup: %v", c.name, err)
		}
		want, err := ch.text(ctx, c.raw)
		if err != nil {
			t.Fatalf("%s: reading the raw tables: %v", c.name, err)
		}
		if strings.Count(want, "\n") < 100 {
			t.Fatalf("%s: %d rows from the raw tables: the generated data did not reach it", c.name, strings.Count(want, "\n"))
		}
		if got != want {
			t.Errorf("%s from the rollups differs from the raw tables:\n%s", c.name, firstDiff(want, got))
		}
	}
}

// loadInBatches writes the world's raw rows in batches of up to 40 rows, tables interleaved
// and rows shuffled, re-inserting about one batch in every dupEvery a second time, except
// batches of purchase_facts: the sink never stores a record of that topic twice (its
// per-table high-water marks), which is what makes the sums of 0131 exact. It returns the
// number of batches inserted twice.
func loadInBatches(ctx context.Context, t *testing.T, conn driver.Conn, w *world, dupEvery int) int {
	t.Helper()
	type batch struct {
		table string
		rows  [][]any
	}
	rng := rand.New(rand.NewPCG(11, 13))
	var batches []batch
	for _, table := range slices.Sorted(maps.Keys(w.raw)) {
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
		itest.Insert(ctx, t, conn, b.table, strings.Join(rawColumns[b.table], ", "), b.rows)
	}
	twice := 0
	for _, b := range batches {
		insert(b)
		if rng.IntN(dupEvery) == 0 && b.table != "purchase_facts" {
			insert(b)
			twice++
		}
	}
	w.loadWindows(ctx, t, conn)
	return twice
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
