package sink

import (
	"context"
	"testing"
)

// rollupChecks pair a figure read from a rollup (migrations 0101, 0131, maintained by a
// materialized view inside the sink's inserts) with the same figure computed from the raw
// tables. After crashes and outages they must agree exactly: a view insert lost or counted
// twice after a SIGKILL shows as a difference (a raw record inserted twice is caught by
// verify's own distinct-record check).
var rollupChecks = []struct{ name, rollup, raw string }{
	{"feedback answers",
		"SELECT toString(sum(n)) FROM (SELECT uniqExactMerge(answers) AS n FROM feedback_monthly GROUP BY business_id, month, kind, bucket)",
		"SELECT toString(uniqExact(event_id)) FROM feedback"},
	// The purchase rollups (0131) are sums, not idempotent states: a purchase fact stored
	// twice or a view insert lost shows here.
	{"purchase months",
		"SELECT toString((sum(purchases), sum(amount), sum(refunded), sum(commission))) FROM purchase_months_rollup",
		"SELECT toString((sum(toInt64(purchases)), sum(amount), sum(refunded), sum(commission))) FROM purchase_facts"},
	{"purchase times",
		"SELECT toString(sum(purchases)) FROM purchase_times_rollup",
		"SELECT toString(sum(toInt64(purchases))) FROM purchase_facts"},
}

// verifyRollups checks every rollup against the raw tables (see rollupChecks).
func (e *testEnv) verifyRollups(t testing.TB) {
	t.Helper()
	for _, c := range rollupChecks {
		var got, want string
		if err := e.conn.QueryRow(context.Background(), c.rollup).Scan(&got); err != nil {
			t.Fatalf("%s: %s: %v", c.name, c.rollup, err)
		}
		if err := e.conn.QueryRow(context.Background(), c.raw).Scan(&want); err != nil {
			t.Fatalf("%s: %s: %v", c.name, c.raw, err)
		}
		if got != want {
			t.Errorf("rollup %s = %s, raw tables say %s", c.name, got, want)
		}
	}
}
