package sink

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
)

// clusterDatabase migrates a database named prefix+unique on cluster through addrs[0] and
// opens a connection to it on each of addrs; when the test ends the database is dropped ON
// CLUSTER and the connections closed.
func clusterDatabase(ctx context.Context, t *testing.T, prefix, cluster string, addrs ...string) (string, []clickhouse.Conn) {
	t.Helper()
	db := prefix + itest.Unique(t)
	if _, err := migrate.Up(ctx, migrate.Config{Addr: addrs[0], Database: db, Cluster: cluster}, migrations.FS()); err != nil {
		t.Fatal(err)
	}
	conns := make([]clickhouse.Conn, len(addrs))
	for i, a := range addrs {
		c, err := clickhouse.Open(&clickhouse.Options{Addr: []string{a}, Auth: clickhouse.Auth{Database: db}})
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	t.Cleanup(func() {
		_ = conns[0].Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cluster)
		for _, c := range conns {
			c.Close()
		}
	})
	return db, conns
}

// TestClusterReplicaKill copies into the two-replica cluster (tables from migrate --cluster,
// topics RF 3 on the three-broker cluster) while a producer keeps writing, SIGKILLs the
// replica the sink writes to and brings it back, then restarts ZooKeeper: afterwards the raw
// tables equal what was produced — none missing, none doubled — on BOTH replicas.
func TestClusterReplicaKill(t *testing.T) {
	cl := itest.LocalCluster(t)
	db, conns := clusterDatabase(context.Background(), t, "taskole_sc_", cl.Name, cl.ClickHouse[:2]...)
	t.Cleanup(func() { cl.Up(t, "clickhouse") }) // before the database is dropped
	e := &testEnv{brokers: cl.Brokers, chAddr: cl.ClickHouse[1], db: db, topics: itest.Topics(t)}
	e.createTopics(t)
	buildTaskole(t)

	stopFeed := e.startFeed(t)
	e.conn = conns[0] // watch progress on the replica the sink does not write to
	rows := func() uint64 { return e.count(t, "SELECT count() FROM bookings") }
	p := startSink(t, e, cl.ClickHouse[1], "g-"+itest.Unique(t),
		"--batch-rows", "800", "--batch-interval", "100ms", "--shutdown-timeout", "3s")
	time.Sleep(4 * time.Second)
	began := time.Now()
	cl.Kill(t, "ch1")
	t.Logf("kill -9 of replica 2 (the sink's) with %d bookings on replica 1", rows())
	time.Sleep(8 * time.Second)
	cl.Up(t, "clickhouse")
	t.Logf("replica 2 back after %v", time.Since(began).Round(100*time.Millisecond))
	time.Sleep(4 * time.Second)
	zk := time.Now()
	cl.Kill(t, "zk")
	t.Logf("kill -9 of zookeeper with %d bookings on replica 1", rows())
	time.Sleep(5 * time.Second)
	cl.Up(t, "clickhouse") // starts zookeeper again
	t.Logf("zookeeper back after %v", time.Since(zk).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second)
	final := stopFeed()
	t.Logf("produced %d records", len(final.recs))
	for i, c := range conns {
		e.conn = c
		e.waitFor(t, final, 90*time.Second)
		time.Sleep(time.Second)
		e.verify(t, final)
		t.Logf("replica %d equals Kafka (%v after the first kill)", i+1, time.Since(began).Round(100*time.Millisecond))
	}
	if took, err := p.terminate(t, 15*time.Second); err != nil {
		t.Errorf("final SIGTERM: exit %v after %v", err, took)
	}
}

// TestClusterRetryOnOtherReplica: the same batch inserted on replica 1 and, 1.1 s later,
// retried on replica 2 (an insert whose acknowledgement was lost, retried after failing over,
// or a Distributed insert whose shard replica changed) is stored once on both replicas,
// because the sink sends _inserted_at itself (stamp.go): the retry is the identical block,
// which ClickHouse's replicated block deduplication drops. With the server's DEFAULT now()
// the two blocks differ after a second and the rows were stored twice (docs/DESIGN.md).
func TestClusterRetryOnOtherReplica(t *testing.T) {
	cl := itest.LocalCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, conns := clusterDatabase(ctx, t, "taskole_sr_", cl.Name, cl.ClickHouse[:2]...)
	topics := itest.Topics(t)
	// One batch as the sink fetches it: bookings of three partitions with their Kafka
	// coordinates and (broker) timestamps.
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	var latest time.Time
	for i := 0; i < 60; i++ {
		b := schemas.Booking{EventID: "e" + strconv.Itoa(i), BookingID: "b" + strconv.Itoa(i), ClientID: "c" + strconv.Itoa(i%7),
			BusinessID: "biz", Status: schemas.StatusCompleted, Amount: decimal.New(int64(1000+i), -2), Currency: "EUR",
			OccurredAt: t0.Add(time.Duration(i) * time.Minute)}
		at := ts.Add(time.Duration(i*37) * time.Millisecond)
		latest = at
		recs = append(recs, &kgo.Record{Topic: string(topics.Bookings), Partition: int32(i % 3), Offset: int64(i / 3),
			Timestamp: at, Key: []byte(b.ClientID), Value: schemas.AppendBooking(nil, b)})
	}
	insertOn := func(addr string) {
		t.Helper()
		s, err := New(Config{Brokers: cl.Brokers, Topics: topics, ClickHouseAddr: addr, Database: db})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, r := range recs {
			if rerr := s.routes[r.Topic].judge(r, true); rerr != nil {
				t.Fatalf("record %d refused: %v", r.Offset, rerr)
			}
		}
		if err := s.insert(ctx, s.routes[string(topics.Bookings)].rows()); err != nil {
			t.Fatalf("inserting on %s: %v", addr, err)
		}
	}
	insertOn(cl.ClickHouse[0])
	time.Sleep(1100 * time.Millisecond) // a clock-derived _inserted_at would differ now
	insertOn(cl.ClickHouse[1])

	for i, c := range conns {
		if err := c.Exec(ctx, "SYSTEM SYNC REPLICA "+db+".bookings"); err != nil {
			t.Fatalf("syncing replica %d: %v", i+1, err)
		}
	}
	for i, c := range conns {
		var n, distinct, stamps uint64
		var at time.Time
		if err := c.QueryRow(ctx, "SELECT count(), uniqExact(_topic, _partition, _offset), uniqExact(_inserted_at), max(_inserted_at) FROM bookings").Scan(&n, &distinct, &stamps, &at); err != nil {
			t.Fatal(err)
		}
		if n != uint64(len(recs)) || distinct != n {
			t.Errorf("replica %d: %d rows, %d distinct records after the batch and its retry; want %d once", i+1, n, distinct, len(recs))
		}
		if want := latest.Truncate(time.Second); stamps != 1 || !at.Equal(want) {
			t.Errorf("replica %d: %d distinct _inserted_at, max %v; want one, %v (the batch's latest record timestamp)", i+1, stamps, at, want)
		}
	}
}

// TestClusterShardedPartialInsert: a batch whose INSERT into the Distributed table stored
// shard 02's part and failed before shard 01's (simulated: shard 02's part inserted alone,
// the block the Distributed table sends it) is completed by the sink's retry: landed finds
// some partitions there and others not, sends the whole batch again, shard 01 stores its
// part and shard 02 drops its identical block. Every record is then stored once.
func TestClusterShardedPartialInsert(t *testing.T) {
	cl := itest.ShardedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, conns := clusterDatabase(ctx, t, "taskole_sp_", cl.Sharded, cl.ClickHouse[0], cl.Shard2)
	conn, shard2 := conns[0], conns[1]
	count := func(c clickhouse.Conn, q string) uint64 { t.Helper(); return itest.Count(ctx, t, c, q) }
	topics := itest.Topics(t)
	const parts = 6
	onShard2 := map[int32]bool{} // the Distributed table's choice: cityHash64(_topic, _partition) % 2 == 1
	for p := int32(0); p < parts; p++ {
		onShard2[p] = count(conn, "SELECT toUInt64(cityHash64('"+string(topics.Bookings)+"', toUInt32("+strconv.Itoa(int(p))+")) % 2)") == 1
	}
	var recs, second []*kgo.Record
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 120; i++ {
		b := schemas.Booking{EventID: "e" + strconv.Itoa(i), BookingID: "b" + strconv.Itoa(i), ClientID: "c" + strconv.Itoa(i%7),
			BusinessID: "biz", Status: schemas.StatusCompleted, Amount: decimal.New(int64(1000+i), -2), Currency: "EUR",
			OccurredAt: t0.Add(time.Duration(i) * time.Minute)}
		r := &kgo.Record{Topic: string(topics.Bookings), Partition: int32(i % parts), Offset: int64(i / parts),
			Timestamp: ts.Add(time.Duration(i*41) * time.Millisecond), Key: []byte(b.ClientID), Value: schemas.AppendBooking(nil, b)}
		recs = append(recs, r)
		if onShard2[r.Partition] {
			second = append(second, r)
		}
	}
	if len(second) == 0 || len(second) == len(recs) {
		t.Fatalf("%d of %d records on shard 02: the partitions do not spread over both shards", len(second), len(recs))
	}
	newSink := func(addr string, rs []*kgo.Record) *Sink {
		s, err := New(Config{Brokers: cl.Brokers, Topics: topics, ClickHouseAddr: addr, Database: db})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		for _, r := range rs {
			if rerr := s.routes[r.Topic].judge(r, true); rerr != nil {
				t.Fatalf("record %d refused: %v", r.Offset, rerr)
			}
			s.routes[string(topics.Bookings)].rows().noteLast(tp{r.Topic, r.Partition}, r.Offset)
		}
		return s
	}
	// Shard 02's part of the batch, as the Distributed table sends it: its rows, in batch
	// order, into the local table, with the batch's stamp.
	s := newSink(cl.ClickHouse[0], recs)
	part := newSink(cl.Shard2, second)
	part.routes[string(topics.Bookings)].rows().inserted.latest = s.routes[string(topics.Bookings)].rows().inserted.latest // the whole batch's stamp
	part.routes[string(topics.Bookings)].rows().query = strings.Replace(part.routes[string(topics.Bookings)].rows().query, db+".bookings ", db+".bookings"+migrate.LocalSuffix+" ", 1)
	if err := part.insert(ctx, part.routes[string(topics.Bookings)].rows()); err != nil {
		t.Fatal(err)
	}
	s.routes[string(topics.Bookings)].rows().attempted = true // the first attempt failed after shard 02 stored its part
	if err := s.insert(ctx, s.routes[string(topics.Bookings)].rows()); err != nil {
		t.Fatalf("retrying the partly stored batch: %v", err)
	}
	n, u := count(conn, "SELECT count() FROM bookings"), count(conn, "SELECT uniqExact(_topic, _partition, _offset) FROM bookings")
	if n != uint64(len(recs)) || u != n {
		t.Errorf("after the retry: %d rows, %d distinct records; want %d once", n, u, len(recs))
	}
	if got := count(shard2, "SELECT count() FROM bookings"+migrate.LocalSuffix); got != uint64(len(second)) {
		t.Errorf("shard 02 holds %d rows, want its %d once", got, len(second))
	}
}
