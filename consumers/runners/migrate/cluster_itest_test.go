package migrate

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

// TestClusterMigrateReplicates: migrate --cluster creates every table on both replicas as
// Replicated*, a second run is a no-op from either replica, a row inserted on one replica is
// read on the other, and the identical block inserted again on the OTHER replica (a sink
// retry after failing over) is deduplicated by ClickHouse's block hash, which is what makes the
// sink's deterministic batches exactly once across replicas (18.16 has no
// insert_deduplication_token).
func TestClusterMigrateReplicates(t *testing.T) {
	cl := itest.LocalCluster(t)
	db := "taskole_mc_" + itest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Up(ctx, Config{Addr: cl.ClickHouse[0], Database: db, Cluster: cl.Name}, migrations.FS())
	if err != nil {
		t.Fatalf("migrate on cluster: %v", err)
	}
	t.Cleanup(func() {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cl.ClickHouse[0]}})
		if err == nil {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cl.Name)
			conn.Close()
		}
	})
	again, err := Up(ctx, Config{Addr: cl.ClickHouse[1], Database: db, Cluster: cl.Name}, migrations.FS())
	if err != nil || len(again.Applied) != 0 || again.Current != len(res.Applied) {
		t.Fatalf("second migrate from the other replica: %+v, %v; want nothing applied, %d current", again, err, len(res.Applied))
	}
	conns := make([]clickhouse.Conn, 2)
	for i, a := range cl.ClickHouse[:2] {
		c, err := clickhouse.Open(&clickhouse.Options{Addr: []string{a}, Auth: clickhouse.Auth{Database: db}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	count := func(c clickhouse.Conn, q string) uint64 {
		t.Helper()
		var n uint64
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	const tables = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine LIKE 'Replicated%'"
	n0, n1 := count(conns[0], tables), count(conns[1], tables)
	if n0 == 0 || n0 != n1 {
		t.Fatalf("replicated tables: %d on replica 1, %d on replica 2", n0, n1)
	}
	if m := count(conns[0], "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND engine NOT LIKE 'Replicated%'"); m != 0 {
		t.Errorf("%d MergeTree tables are not replicated", m)
	}
	insert := func(c clickhouse.Conn) {
		t.Helper()
		// Every column given: a DEFAULT now() filled by the server would differ between the
		// two attempts and defeat the block hash (measured: see docs/DESIGN.md).
		b, err := c.PrepareBatch(ctx, "INSERT INTO sink_progress (topic, partition, offset, updated_at)")
		if err != nil {
			t.Fatal(err)
		}
		for p := uint32(0); p < 3; p++ {
			if err := b.Append("t", p, uint64(100+p), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(conns[0])
	time.Sleep(1100 * time.Millisecond) // a retry comes later: a now() default would differ now
	insert(conns[1])                    // the same block, retried against the other replica
	const rows = "SELECT count() FROM sink_progress"
	deadline := time.Now().Add(30 * time.Second)
	for count(conns[1], rows) < 3 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if a, b := count(conns[0], rows), count(conns[1], rows); a != 3 || b != 3 {
		t.Errorf("after the same block on both replicas: %d and %d rows, want 3 and 3", a, b)
	}
}
