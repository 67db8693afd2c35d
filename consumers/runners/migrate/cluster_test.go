package migrate

import (
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/testkit/tabletest"
)

func TestOnCluster(t *testing.T) {
	tests := []rewriteCase[string]{
		{name: "replacing without args",
			in:   "CREATE TABLE IF NOT EXISTS bookings\n(\n    a String\n)\nENGINE = ReplacingMergeTree\nORDER BY a",
			want: "CREATE TABLE IF NOT EXISTS db.bookings ON CLUSTER c\n(\n    a String\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/bookings', '{replica}')\nORDER BY a"},
		{name: "replacing with version column",
			in:   "CREATE TABLE IF NOT EXISTS sink_progress (o UInt64) ENGINE = ReplacingMergeTree(offset) ORDER BY o",
			want: "CREATE TABLE IF NOT EXISTS db.sink_progress ON CLUSTER c (o UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/sink_progress', '{replica}', offset) ORDER BY o"},
		{name: "aggregating with empty parentheses, leading comment",
			in:   "-- rollup\nCREATE TABLE IF NOT EXISTS feedback_monthly (x UInt8) ENGINE = AggregatingMergeTree() ORDER BY x",
			want: "-- rollup\nCREATE TABLE IF NOT EXISTS db.feedback_monthly ON CLUSTER c (x UInt8) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db/feedback_monthly', '{replica}') ORDER BY x"},
		{name: "plain mergetree, qualified name",
			in:   "CREATE TABLE other.t (v UInt32) ENGINE = MergeTree ORDER BY v",
			want: "CREATE TABLE other.t ON CLUSTER c (v UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/other/t', '{replica}') ORDER BY v"},
		{name: "database", in: "CREATE DATABASE IF NOT EXISTS db", want: "CREATE DATABASE IF NOT EXISTS db ON CLUSTER c"},
		{name: "drop", in: "DROP TABLE IF EXISTS purchases", want: "DROP TABLE IF EXISTS db.purchases ON CLUSTER c"},
		{name: "alter", in: "ALTER TABLE bookings ADD COLUMN x UInt8", want: "ALTER TABLE db.bookings ON CLUSTER c ADD COLUMN x UInt8"},
		{name: "insert runs once", in: "INSERT INTO feedback_monthly SELECT 1", want: "INSERT INTO feedback_monthly SELECT 1"},
		{name: "rename refused", in: "RENAME TABLE a TO b", wantErr: "not supported"},
	}
	checkRewrites(t, tests, func(in string) (string, error) { return OnCluster(in, "c", "db") }, func(s string) string { return s })
	for _, v := range []string{"CREATE VIEW IF NOT EXISTS v AS SELECT 1", "-- x\nCREATE MATERIALIZED VIEW IF NOT EXISTS m TO t AS SELECT 1"} {
		if !isView(v) {
			t.Errorf("isView(%q) = false", v)
		}
	}
	if isView("CREATE TABLE v (x UInt8) ENGINE = MergeTree ORDER BY x") {
		t.Error("a table counted as a view")
	}
}

func TestOnShardedCluster(t *testing.T) {
	tests := []rewriteCase[[]string]{
		{name: "raw table: local replicated + distributed by kafka partition",
			in: "CREATE TABLE IF NOT EXISTS bookings\n(\n    a String,\n    _topic String,\n    _partition UInt32,\n    _offset UInt64\n)\nENGINE = ReplacingMergeTree\nORDER BY (_topic, _partition, _offset)",
			want: []string{
				"CREATE TABLE IF NOT EXISTS db.bookings_local ON CLUSTER c\n(\n    a String,\n    _topic String,\n    _partition UInt32,\n    _offset UInt64\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/bookings_local', '{replica}')\nORDER BY (_topic, _partition, _offset)",
				"CREATE TABLE IF NOT EXISTS db.bookings ON CLUSTER c AS db.bookings_local ENGINE = Distributed(c, db, bookings_local, cityHash64(_topic, _partition))",
			}},
		{name: "other table: sharded by its sorting key",
			in: "CREATE TABLE IF NOT EXISTS sink_progress (topic String, partition UInt32, offset UInt64) ENGINE = ReplacingMergeTree(offset) ORDER BY (topic, partition)",
			want: []string{
				"CREATE TABLE IF NOT EXISTS db.sink_progress_local ON CLUSTER c (topic String, partition UInt32, offset UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/sink_progress_local', '{replica}', offset) ORDER BY (topic, partition)",
				"CREATE TABLE IF NOT EXISTS db.sink_progress ON CLUSTER c AS db.sink_progress_local ENGINE = Distributed(c, db, sink_progress_local, cityHash64(topic, partition))",
			}},
		{name: "single sorting column",
			in:   "CREATE TABLE IF NOT EXISTS m (version UInt32) ENGINE = MergeTree ORDER BY version",
			want: []string{"CREATE TABLE IF NOT EXISTS db.m_local ON CLUSTER c (version UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/m_local', '{replica}') ORDER BY version", "CREATE TABLE IF NOT EXISTS db.m ON CLUSTER c AS db.m_local ENGINE = Distributed(c, db, m_local, cityHash64(version))"}},
		{name: "no sorting columns refused", in: "CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY tuple()", wantErr: "no ORDER BY"},
		{name: "drop drops both", in: "DROP TABLE IF EXISTS purchases",
			want: []string{"DROP TABLE IF EXISTS db.purchases ON CLUSTER c", "DROP TABLE IF EXISTS db.purchases_local ON CLUSTER c"}},
		{name: "column alter on both, local first", in: "ALTER TABLE bookings ADD COLUMN x UInt8",
			want: []string{"ALTER TABLE db.bookings_local ON CLUSTER c ADD COLUMN x UInt8", "every host: ALTER TABLE db.bookings ADD COLUMN x UInt8"}},
		{name: "partition alter on the local table", in: "ALTER TABLE client_predictions DROP PARTITION '2025-01-01'",
			want: []string{"ALTER TABLE db.client_predictions_local ON CLUSTER c DROP PARTITION '2025-01-01'"}},
		{name: "insert runs once", in: "INSERT INTO feedback_monthly SELECT 1", want: []string{"INSERT INTO feedback_monthly SELECT 1"}},
		{name: "database", in: "CREATE DATABASE IF NOT EXISTS db", want: []string{"CREATE DATABASE IF NOT EXISTS db ON CLUSTER c"}},
	}
	sharded := func(in string) ([]string, error) {
		got, err := OnShardedCluster(in, "c", "db")
		var out []string
		for _, g := range got {
			if g.EveryHost {
				g.SQL = "every host: " + g.SQL
			}
			out = append(out, g.SQL)
		}
		return out, err
	}
	checkRewrites(t, tests, sharded, func(s []string) string { return strings.Join(s, "\n;\n") })
}

// rewriteCase is a statement and what a cluster rewrite makes of it (want), or an error
// containing wantErr.
type rewriteCase[W any] struct {
	name, in string
	want     W
	wantErr  string
}

// checkRewrites runs rewrite over tests and compares what it makes with want, both as show
// renders them.
func checkRewrites[W any](t *testing.T, tests []rewriteCase[W], rewrite func(in string) (W, error), show func(W) string) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite(tt.in)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			if g, w := show(got), show(tt.want); g != w {
				t.Errorf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}
