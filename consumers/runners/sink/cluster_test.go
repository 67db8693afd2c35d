package sink

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

// TestClusterReplicaKill copies into the two-replica cluster (tables from migrate --cluster,
// topics RF 3 on the three-broker cluster) while a producer keeps writing, SIGKILLs the
// replica the sink writes to and brings it back, then restarts ZooKeeper: afterwards the raw
// tables equal what was produced — none missing, none doubled — on BOTH replicas.
func TestClusterReplicaKill(t *testing.T) {
	cl := itest.LocalCluster(t)
	db := "taskole_sc_" + itest.Unique(t)
	e := &testEnv{brokers: cl.Brokers, chAddr: cl.ClickHouse[1], db: db, topics: itest.Topics(t)}
	ctx := context.Background()
	if _, err := migrate.Up(ctx, migrate.Config{Addr: cl.ClickHouse[0], Database: db, Cluster: cl.Name}, migrations.FS()); err != nil {
		t.Fatal(err)
	}
	conns := make([]clickhouse.Conn, 2)
	for i := range conns {
		c, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cl.ClickHouse[i]}, Auth: clickhouse.Auth{Database: db}})
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	t.Cleanup(func() {
		cl.Up(t, "clickhouse")
		_ = conns[0].Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+cl.Name)
		conns[0].Close()
		conns[1].Close()
	})
	tp := e.topics
	itest.CreateTopics(t, e.brokers, 3, string(tp.Bookings), string(tp.Enrollments), string(tp.Businesses),
		string(tp.Feedback), string(tp.AcquisitionCosts), string(tp.ReferralOwners), string(tp.Commissions),
		string(tp.Payouts), string(tp.DLQ))
	buildTaskole(t)

	var (
		mu   sync.Mutex
		all  = generate(e.topics, "a", 400)
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	e.produce(t, all.recs)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			d := generate(e.topics, "p"+strconv.Itoa(i), 300)
			e.produce(t, d.recs)
			mu.Lock()
			all.merge(d)
			mu.Unlock()
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
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
	close(stop)
	wg.Wait()

	mu.Lock()
	final := all
	mu.Unlock()
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
