package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestClusterLeaderKill runs `taskole ledger` against the three-broker cluster (RF 3, min ISR
// 2) and SIGKILLs the broker leading bookings partition 0 in the middle of every phase, then
// brings it back: the ledger read back must equal the reference model's, ids included.
func TestClusterLeaderKill(t *testing.T) {
	cl := itest.LocalCluster(t)
	run := newScenarioRun(t, cl.Brokers, false)
	t.Cleanup(func() { cl.Up(t, "kafka") }) // before the topics are deleted
	run.start("a")
	waitTopic(t, run.brokers, string(run.topics.Bookings))
	for i, ph := range run.phases {
		run.produce(ph)
		lag := run.killPoint()
		leader := leaderOf(t, run.brokers, string(run.topics.Bookings), 0)
		t.Logf("phase %d: kill -9 broker %d (leader of bookings/0) with %d records left", i, leader, lag)
		began := time.Now()
		cl.Kill(t, fmt.Sprintf("kafka%d", leader-1))
		run.waitLag(120 * time.Second)
		t.Logf("phase %d: caught up %v after the kill", i, time.Since(began).Round(100*time.Millisecond))
		cl.Up(t, "kafka")
	}
	run.check()
}

func leaderOf(t *testing.T, brokers []string, topic string, partition int32) int32 {
	t.Helper()
	c := itest.Client(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := kadm.NewClient(c).ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := d[topic].Partitions[partition]
	if !ok || p.Leader < 1 || p.Leader > 3 {
		t.Fatalf("no leader for %s/%d: %+v", topic, partition, p)
	}
	return p.Leader
}
