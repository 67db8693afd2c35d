package migrate

import (
	"strings"
	"testing"
)

func TestOnCluster(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OnCluster(tt.in, "c", "db")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	for _, v := range []string{"CREATE VIEW IF NOT EXISTS v AS SELECT 1", "-- x\nCREATE MATERIALIZED VIEW IF NOT EXISTS m TO t AS SELECT 1"} {
		if !isView(v) {
			t.Errorf("isView(%q) = false", v)
		}
	}
	if isView("CREATE TABLE v (x UInt8) ENGINE = MergeTree ORDER BY x") {
		t.Error("a table counted as a view")
	}
}
