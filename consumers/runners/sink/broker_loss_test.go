package sink

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/sql/migrations"
)

// brokerDown is how long the broker stays killed: longer than the sink's session timeout.
const brokerDown = 20 * time.Second

// newEnvOn is newEnv on the given brokers (a private broker for kill tests).
func newEnvOn(t *testing.T, brokers []string) *testEnv {
	t.Helper()
	e := &testEnv{brokers: brokers, chAddr: itest.ClickHouse(t), db: itest.Database(t), topics: itest.Topics(t)}
	if _, err := migrate.Up(context.Background(), migrate.Config{Addr: e.chAddr, Database: e.db}, migrations.FS()); err != nil {
		t.Fatal(err)
	}
	tp := e.topics
	itest.CreateTopics(t, e.brokers, 3, string(tp.Bookings), string(tp.Enrollments), string(tp.Businesses),
		string(tp.Feedback), string(tp.AcquisitionCosts), string(tp.ReferralOwners), string(tp.Commissions),
		string(tp.Payouts), string(tp.DLQ), string(tp.RetentionCosts))
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{e.chAddr}, Auth: clickhouse.Auth{Database: e.db}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.conn = conn
	return e
}

// startSinkProc runs `taskole sink` on e with its output kept (for the stop line).
func startSinkProc(t *testing.T, e *testEnv, group string, flags ...string) *itest.Proc {
	t.Helper()
	prefix := e.topics.Prefix
	cmd := exec.Command(buildTaskole(t), append([]string{"sink", "--group", group, "--metrics-addr", "", "--log-level", "info"}, flags...)...)
	cmd.Env = append(os.Environ(),
		"TASKOLE_KAFKA_BROKERS="+strings.Join(e.brokers, ","),
		"TASKOLE_CLICKHOUSE_ADDR="+e.chAddr,
		"TASKOLE_CLICKHOUSE_DATABASE="+e.db,
		"TASKOLE_TOPIC_PREFIX="+prefix,
	)
	return itest.StartProc(t, cmd)
}

// TestSinkBrokerLoss kills the broker (a private one) with kill -9 while `taskole sink` is
// copying, keeps it down longer than the session timeout and starts it again; more records
// arrive after the restart. The sink must keep running or exit non-zero with a message (a
// supervisor, here the test, restarts it); the raw tables must then equal what Kafka holds:
// every record once, none missing, none doubled, the sink's dead letters once each. Last, the
// broker is killed again right after new input and the sink gets SIGTERM (itest.StopWithBrokerDown).
func TestSinkBrokerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("broker loss test is slow")
	}
	br := itest.PrivateKafka(t)
	e := newEnvOn(t, []string{br.Addr})
	group := "g-" + itest.Unique(t)
	all := generate(e.topics, "a", 20000)
	e.produce(t, all.recs)

	flags := []string{"--batch-rows", "400", "--batch-interval", "50ms"}
	p := startSinkProc(t, e, group, flags...)
	deadline := time.Now().Add(60 * time.Second)
	for e.count(t, "SELECT count() FROM bookings") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the sink stored nothing in 60 s:\n%s", p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("kill -9 of the broker with %d bookings rows stored", e.count(t, "SELECT count() FROM bookings"))
	br.Kill()
	time.Sleep(brokerDown)
	br.Start()
	if exited, err := p.Exited(); exited {
		itest.CheckFatalExit(t, "sink", err, p.Output())
		t.Logf("sink exited with %v; restarting it as a supervisor would", err)
		p = startSinkProc(t, e, group, flags...)
	} else {
		t.Logf("sink kept running through the broker outage")
	}
	more := generate(e.topics, "b", 3000)
	e.produce(t, more.recs)
	all.merge(more)
	e.waitFor(t, all, 180*time.Second)
	time.Sleep(time.Second) // a duplicate would come after the expected count
	e.verify(t, all)
	if t.Failed() {
		t.Logf("sink output:\n%s", p.Output())
	}

	// More records (nothing is checked after this), so that rows are buffered and the
	// dead-letter judge has a transaction open when the broker goes.
	itest.StopWithBrokerDown(t, br, p, "sink", func() { e.produce(t, generate(e.topics, "c", 3000).recs) })
}
