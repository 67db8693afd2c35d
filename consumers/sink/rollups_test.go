package sink

import (
	"context"
	"testing"
)

// rollupChecks pair a figure read from a rollup of migrations 0101/0120 (maintained by
// materialized views inside the sink's inserts) with the same figure computed from the raw
// tables. After crashes and outages they must agree exactly: a record the sink inserted
// twice, or a view insert counted twice or lost, shows as a difference.
var rollupChecks = []struct{ name, rollup, raw string }{
	{"bookings per booking_rollup",
		"SELECT toString(count()) FROM (SELECT booking_id FROM booking_rollup GROUP BY booking_id)",
		"SELECT toString(uniqExact(booking_id)) FROM bookings"},
	{"completed amounts",
		`SELECT toString(sum(a)) FROM (SELECT argMinIfMerge(amount_state) AS a FROM booking_rollup GROUP BY booking_id HAVING maxMerge(completed_flag) = 1)`,
		`SELECT toString(sum(a)) FROM (SELECT argMinIf(amount, (occurred_at, occurred_at_ns), status = 'completed') AS a FROM bookings GROUP BY booking_id HAVING countIf(status = 'completed') > 0)`},
	{"refunds",
		`SELECT toString(sum(r)) FROM (SELECT arrayReduce('sum', arrayMap(x -> x.2, groupUniqArrayIfMerge(refunds_state))) AS r FROM booking_rollup GROUP BY booking_id)`,
		`SELECT toString(sum(r)) FROM (SELECT any(refund_amount) AS r FROM bookings WHERE status = 'refunded' GROUP BY event_id)`},
	{"booking_events rows", "SELECT toString(count()) FROM booking_events", "SELECT toString(count()) FROM bookings"},
	{"booking_positions rows", "SELECT toString(uniqExact(position)) FROM booking_positions", "SELECT toString(count()) FROM booking_positions"},
	{"booking_positions = bookings", "SELECT toString(count()) FROM booking_positions", "SELECT toString(count()) FROM bookings"},
	{"clients per owner_rollup",
		"SELECT toString(count()) FROM (SELECT client_id FROM owner_rollup GROUP BY client_id)",
		"SELECT toString(uniqExact(client_id)) FROM referral_owners"},
	{"commission amounts",
		`SELECT toString(sum(c)) FROM (SELECT arrayReduce('sum', arrayMap(e -> e.2, groupUniqArrayMerge(entries_state))) AS c FROM commission_rollup GROUP BY booking_id, owner_business_id)`,
		`SELECT toString(sum(a)) FROM (SELECT any(amount) AS a FROM commissions GROUP BY commission_id)`},
	{"feedback answers",
		"SELECT toString(sum(n)) FROM (SELECT uniqExactMerge(answers) AS n FROM feedback_monthly GROUP BY business_id, month, kind, bucket)",
		"SELECT toString(uniqExact(event_id)) FROM feedback"},
}

// verifyRollups checks every rollup against the raw tables (see rollupChecks).
func (e *testEnv) verifyRollups(t *testing.T) {
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
