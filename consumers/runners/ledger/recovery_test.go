package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// stop sends SIGTERM to instance name and waits; a graceful stop must exit 0.
func stop(t *testing.T, p *itest.Proc, name string) {
	t.Helper()
	if _, exited, err := p.Terminate(itest.ShutdownLimit); !exited || err != nil {
		t.Errorf("instance %s: graceful stop: exited %v, %v\n%s", name, exited, err, p.Output())
	}
}

// chunks splits ins into n consecutive parts (the per-client order stays as in ins).
func chunks(ins []input, n int) [][]input {
	var out [][]input
	size := (len(ins) + n - 1) / n
	for len(ins) > 0 {
		k := min(size, len(ins))
		out = append(out, ins[:k])
		ins = ins[k:]
	}
	return out
}

// checkLedger reads the commissions back and compares them with the reference model.
func checkLedger(t *testing.T, brokers []string, topics schemas.Topics, wantNet map[string]decimal.Decimal, wantIDs []string) {
	t.Helper()
	recs := readAll(t, brokers, string(topics.Commissions), 60*time.Second, func(rs []*kgo.Record) bool {
		return len(rs) >= len(wantIDs)
	})
	// Read a moment longer: a duplicate would come after the expected count.
	time.Sleep(time.Second)
	recs = readAll(t, brokers, string(topics.Commissions), 5*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(recs) })
	net, ids, dup := ledgerOf(t, recs)
	if len(dup) > 0 {
		t.Errorf("duplicate commission ids: %d (e.g. %v)", len(dup), dup[:min(3, len(dup))])
	}
	// The ids too: the stream processor merges each partition's enrollments and bookings in
	// event time, so rebalances, restarts and the topics' pace change no entry.
	if strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
		t.Errorf("commission ids differ from the reference: got %d, want %d", len(ids), len(wantIDs))
	}
	for k, w := range wantNet {
		if !net[k].Equal(w) {
			t.Errorf("net %s = %s, want %s", k, net[k], w)
		}
	}
	for k, g := range net {
		if _, ok := wantNet[k]; !ok {
			t.Errorf("unexpected ledger line %s = %s", k, g)
		}
	}
}

// TestLedgerScaleOutAndIn scales `taskole ledger` from one instance to three and back to one
// while input keeps arriving, SIGKILLing one of them on the way (its partitions move after the
// session timeout) and stopping another gracefully with --leave-group: the ledger must equal
// the reference model, commission ids included.
func TestLedgerScaleOutAndIn(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test is slow")
	}
	brokers := itest.Kafka(t)
	run := newScenarioRun(t, brokers, false)
	procs := map[string]*itest.Proc{}
	procs["a"] = run.start("a")
	waitTopic(t, brokers, string(run.topics.Bookings))
	run.produce(run.phases[0])
	run.waitLag(60 * time.Second)

	steps := []func(){
		func() { procs["b"] = run.start("b", "--leave-group") },
		func() { procs["c"] = run.start("c") },
		func() {
			lag := run.killPoint()
			t.Logf("SIGKILL instance c with %d records left", lag)
			procs["c"].Kill()
			procs["c"] = nil
		},
		func() {
			stop(t, procs["b"], "b")
			procs["b"] = nil
		},
	}
	for i, ch := range chunks(run.phases[1], len(steps)) {
		run.produce(ch)
		steps[i]()
		time.Sleep(time.Second)
	}
	// Phase 2 (late enrollments) after phase 1 is processed, as the scenario's phases are
	// meant: else a late enrollment could overtake, in event time, a booking still waiting.
	run.waitLag(120 * time.Second)
	run.produce(run.phases[2])
	run.waitLag(120 * time.Second)
	run.check()
}

// TestLedgerBrokerRestart kills the broker (a private one: the shared broker is never
// stopped) with kill -9 in the middle of a run, keeps it down 20 s and starts it again. The
// ledger instance must keep running through it, or exit non-zero with a message (a supervisor,
// here the test, restarts it); either way the ledger must equal the reference model. Last,
// with the broker killed again, SIGTERM must stop the ledger within the hang guard, its stop
// logged.
func TestLedgerBrokerRestart(t *testing.T) {
	br := itest.PrivateKafka(t)
	brokers := []string{br.Addr}
	run := newScenarioRun(t, brokers, true)
	a := run.start("a", "--log-level", "info")
	waitTopic(t, brokers, string(run.topics.Bookings))
	run.produce(run.phases[0])
	run.waitLag(60 * time.Second)
	run.produce(run.phases[1])
	// At once: the ledger is still working through phase 1 (a transaction open, most likely).
	t.Logf("kill -9 of the broker with %d records left", lagOf(t, brokers, run.fullGroup, run.inputs...))
	a = itest.BrokerOutage(t, br, a, "ledger", func() *itest.Proc { return run.start("a", "--log-level", "info") })
	run.waitLag(120 * time.Second)
	run.produce(run.phases[2])
	run.waitLag(120 * time.Second)
	run.check()
	// The last phase again (the ledger dedupes it; nothing is checked after this).
	itest.StopWithBrokerDown(t, br, a, "ledger", func() { run.produce(run.phases[2]) })
}
