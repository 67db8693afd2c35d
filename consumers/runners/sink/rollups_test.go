package sink

import (
	"context"
	"testing"
)

// rollupChecks pair a figure read from a rollup (migrations 0101, 0131, 0133, 0135, maintained by a
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
	{"client months",
		"SELECT toString(sum(purchases)) FROM client_months_rollup",
		"SELECT toString(sum(toInt64(purchases))) FROM purchase_facts"},
	// current_owners (0133) keeps each client's record with the largest (_partition, _offset),
	// read with FINAL: a view insert lost shows as a client missing or an older record; one
	// repeated would be harmless (whole records, not sums), and the row count read with FINAL
	// shows a client kept twice.
	{"current owners",
		`SELECT toString((count(), sum(cityHash64(client_id, owner_business_id, event_id, written))))
        FROM current_owners FINAL`,
		`SELECT toString((count(), sum(cityHash64(client_id, owner, event, written))))
        FROM
        (
            SELECT client_id, argMax(owner_business_id, w) AS owner, argMax(event_id, w) AS event, max(w) AS written
            FROM (SELECT client_id, owner_business_id, event_id, bitShiftLeft(toUInt64(_partition), 40) + _offset AS w FROM referral_owners) AS r
            GROUP BY client_id
        ) AS last`},
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
