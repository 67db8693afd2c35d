package migrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

// upOnCluster migrates a database named prefix+unique on cluster through the server at addr
// and drops it ON CLUSTER when the test ends.
func upOnCluster(ctx context.Context, t *testing.T, prefix, addr, cluster string) (string, migrate.Result) {
	t.Helper()
	db := prefix + itest.Unique(t)
	res, err := migrate.Up(ctx, migrate.Config{Addr: addr, Database: db, Cluster: cluster}, migrations.FS())
	if err != nil {
		t.Fatalf("migrate on cluster %s: %v", cluster, err)
	}
	t.Cleanup(func() {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
		if err == nil {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cluster)
			conn.Close()
		}
	})
	return db, res
}

// TestClusterMigrateReplicates: migrate --cluster creates every table on both replicas as
// Replicated*, a second run is a no-op from either replica, a row inserted on one replica is
// read on the other, and the identical block inserted again on the OTHER replica (a sink
// retry after failing over) is deduplicated by ClickHouse's block hash, which is what makes the
// sink's deterministic batches exactly once across replicas (18.16 has no
// insert_deduplication_token).
func TestClusterMigrateReplicates(t *testing.T) {
	cl := itest.LocalCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, res := upOnCluster(ctx, t, "taskole_mc_", cl.ClickHouse[0], cl.Name)
	again, err := migrate.Up(ctx, migrate.Config{Addr: cl.ClickHouse[1], Database: db, Cluster: cl.Name}, migrations.FS())
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
	count := func(c clickhouse.Conn, q string) uint64 { t.Helper(); return itest.Count(ctx, t, c, q) }
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

// TestClusterMigrateSharded: on the two-shard cluster, migrate --cluster creates every
// MergeTree table as a Replicated <name>_local on every server and a Distributed <name> over
// it, views on every server, and a second run is a no-op; a row written through the
// Distributed table lands on exactly one shard and is read back from every server.
func TestClusterMigrateSharded(t *testing.T) {
	cl := itest.ShardedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, res := upOnCluster(ctx, t, "taskole_ms_", cl.ClickHouse[0], cl.Sharded)
	again, err := migrate.Up(ctx, migrate.Config{Addr: cl.Shard2, Database: db, Cluster: cl.Sharded}, migrations.FS())
	if err != nil || len(again.Applied) != 0 || again.Current != len(res.Applied) {
		t.Fatalf("second migrate from shard 02: %+v, %v; want nothing applied, %d current", again, err, len(res.Applied))
	}
	addrs := []string{cl.ClickHouse[0], cl.ClickHouse[1], cl.Shard2}
	conns := make([]clickhouse.Conn, len(addrs))
	for i, a := range addrs {
		c, err := clickhouse.Open(&clickhouse.Options{Addr: []string{a}, Auth: clickhouse.Auth{Database: db},
			Settings: clickhouse.Settings{"insert_distributed_sync": 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	count := func(c clickhouse.Conn, q string) uint64 { t.Helper(); return itest.Count(ctx, t, c, q) }
	const (
		dist  = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine = 'Distributed'"
		local = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine LIKE 'Replicated%' AND endsWith(name, '_local')"
		other = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND NOT (engine LIKE 'Replicated%' AND endsWith(name, '_local'))"
		views = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine IN ('View', 'MaterializedView')"
	)
	d0, l0, v0 := count(conns[0], dist), count(conns[0], local), count(conns[0], views)
	if d0 == 0 || d0 != l0 || v0 == 0 {
		t.Fatalf("server 1: %d Distributed, %d local Replicated tables, %d views", d0, l0, v0)
	}
	for i, c := range conns {
		if d, l, v, o := count(c, dist), count(c, local), count(c, views), count(c, other); d != d0 || l != l0 || v != v0 || o != 0 {
			t.Errorf("server %d: %d Distributed, %d local, %d views, %d other MergeTree; want %d, %d, %d, 0", i+1, d, l, v, o, d0, l0, v0)
		}
	}
	// Partitions 0..7 of one topic through the Distributed table: each partition's rows on
	// one shard, both shards used, every row read back once from every server.
	b, err := conns[0].PrepareBatch(ctx, "INSERT INTO enrollments (event_id, client_id, business_id, source, occurred_at, occurred_at_ns, _topic, _partition, _offset, _inserted_at)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for p := uint32(0); p < 8; p++ {
		for o := uint64(0); o < 5; o++ {
			if err := b.Append("e", "c", "b", int8(1), at, uint32(0), "t", p, o, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		// Server 2 reads shard 01 from its own replica, which fetches the part a moment later.
		if err := c.Exec(ctx, "SYSTEM SYNC REPLICA "+db+".enrollments_local"); err != nil {
			t.Fatalf("syncing server %d: %v", i+1, err)
		}
	}
	for i, c := range conns {
		if n := count(c, "SELECT count() FROM enrollments"); n != 40 {
			t.Errorf("server %d reads %d rows through the Distributed table, want 40", i+1, n)
		}
	}
	s1 := count(conns[0], "SELECT count() FROM enrollments_local")
	s2 := count(conns[2], "SELECT count() FROM enrollments_local")
	if s1+s2 != 40 || s1 == 0 || s2 == 0 {
		t.Errorf("shard 01 holds %d rows, shard 02 %d: want 40 split over both", s1, s2)
	}
	if n := count(conns[0], "SELECT uniqExact(_partition) FROM enrollments_local") + count(conns[2], "SELECT uniqExact(_partition) FROM enrollments_local"); n != 8 {
		t.Errorf("the 8 partitions are on %d shard-partitions: a partition is split across shards", n)
	}
}
