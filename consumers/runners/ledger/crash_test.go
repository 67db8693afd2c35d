package ledger

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// taskoleBinary builds consumers/cmd/taskole once per test binary.
func taskoleBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "taskole-crash")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "taskole")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/taskole/revshare/consumers/cmd/taskole").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building taskole: %v", binErr)
	}
	return binPath
}

// startLedger starts instance name of `taskole ledger` in group (itest.Proc: one Wait, the
// output kept, killed when the test ends).
func startLedger(t *testing.T, bin string, brokers []string, prefix, group, name string, extra ...string) *itest.Proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"ledger",
		"--kafka-brokers", strings.Join(brokers, ","),
		"--topic-prefix", prefix,
		"--group", group,
		"--instance", name,
		"--partitions", "4",
		"--commit-interval", "100ms",
		"--max-batch-records", "40",
		"--session-timeout", "6s",
		"--rebalance-timeout", "10s",
		"--metrics-addr", "",
		"--log-level", "info", // partitions restored and dropped: shown when the test fails
	}, extra...)...)
	// The ledger has no children, so its output pipe closes when it exits; this only bounds
	// the copy should anything else ever hold the pipe.
	cmd.WaitDelay = 5 * time.Second
	return itest.StartProc(t, cmd)
}

// ledgers starts the `taskole ledger` processes of one group under one prefix, and when the
// test ends kills every one it started (a stopped or killed one again: a no-op) and, if the
// test failed, logs the output of each (a live one stopped first: see start).
type ledgers struct {
	t             *testing.T
	bin           string
	brokers       []string
	prefix, group string
	started       []*itest.Proc
	names         []string
}

// newLedgers returns the starter of group's processes on brokers, under topics' prefix.
func newLedgers(t *testing.T, brokers []string, topics schemas.Topics, group string) *ledgers {
	l := &ledgers{t: t, bin: taskoleBinary(t), brokers: brokers, prefix: topics.Prefix, group: group}
	t.Cleanup(func() {
		for i, in := range l.started {
			in.Kill()
			if t.Failed() {
				t.Logf("instance %s output:\n%s", l.names[i], in.Output())
			}
		}
	})
	return l
}

// start starts instance name with the extra flags.
func (l *ledgers) start(name string, extra ...string) *itest.Proc {
	l.t.Helper()
	in := startLedger(l.t, l.bin, l.brokers, l.prefix, l.group, name, extra...)
	// Registered after the process's own kill, so it runs before it: when the test failed, a
	// live instance gets SIGTERM, then SIGQUIT after 2 s (its goroutines, in its output).
	l.t.Cleanup(func() {
		if l.t.Failed() {
			in.Terminate(2 * time.Second)
		}
	})
	l.started = append(l.started, in)
	l.names = append(l.names, name)
	return in
}

// scenarioRun is a test of `taskole ledger` processes over scenario(150): the starter of its
// processes, its topics, the group as the binary names it (fullGroup: --topic-prefix prepended
// to --group), the input topics, the phases and the reference ledger.
type scenarioRun struct {
	*ledgers
	topics    schemas.Topics
	fullGroup string
	inputs    []string
	phases    [][]input
	wantNet   map[string]decimal.Decimal
	wantIDs   []string
}

// newScenarioRun prepares a run on brokers. Its topics are deleted when the test ends, after
// the processes are killed, unless the broker is private (its topics go with it).
func newScenarioRun(t *testing.T, brokers []string, private bool) *scenarioRun {
	t.Helper()
	topics := itest.Topics(t)
	if !private {
		t.Cleanup(func() { deleteTopics(brokers, topics, ChangelogFor(topics)) })
	}
	group := "g-" + itest.Unique(t)
	phases, _ := scenario(150)
	wantNet, wantIDs := reference(t, phases)
	return &scenarioRun{ledgers: newLedgers(t, brokers, topics, group), topics: topics, fullGroup: topics.Prefix + group,
		inputs: []string{string(topics.Enrollments), string(topics.Bookings)}, phases: phases, wantNet: wantNet, wantIDs: wantIDs}
}

// produce writes inputs to the run's topics.
func (r *scenarioRun) produce(ins []input) { produce(r.t, r.brokers, r.topics, ins) }

// waitLag waits until the group has committed everything of the input topics.
func (r *scenarioRun) waitLag(timeout time.Duration) {
	r.t.Helper()
	waitLag(r.t, r.brokers, r.fullGroup, timeout, r.inputs...)
}

// killPoint waits until the group committed part, not all, of the pending input (or 20 s)
// and returns the lag then.
func (r *scenarioRun) killPoint() int64 {
	r.t.Helper()
	return killPoint(r.t, r.brokers, r.fullGroup, r.inputs...)
}

// check reads the commissions back and compares them with the reference ledger.
func (r *scenarioRun) check() {
	r.t.Helper()
	checkLedger(r.t, r.brokers, r.topics, r.wantNet, r.wantIDs)
}

// reference runs the pure rules over the inputs in phase order: the ledger an uninterrupted,
// one-instance run produces (per client the order is the same; across clients it does not matter).
func reference(t *testing.T, phases [][]input) (map[string]decimal.Decimal, []string) {
	t.Helper()
	all, _ := judgeAll(t, phases)
	net := map[string]decimal.Decimal{}
	var ids []string
	for _, c := range all {
		k := c.OwnerBusinessID + "/" + c.BookingID + "/" + c.Currency
		net[k] = net[k].Add(c.Amount)
		ids = append(ids, c.CommissionID)
	}
	sort.Strings(ids)
	return net, ids
}

// referenceFacts is the purchase facts of the uninterrupted run (reference), each as
// "key value" of its record, sorted.
func referenceFacts(t *testing.T, phases [][]input) []string {
	t.Helper()
	_, facts := judgeAll(t, phases)
	out := make([]string, 0, len(facts))
	for _, f := range facts {
		out = append(out, f.ClientID+" "+string(schemas.AppendPurchaseFact(nil, f)))
	}
	sort.Strings(out)
	return out
}

// judgeAll applies the pure rules to the inputs in phase order (see reference).
func judgeAll(t *testing.T, phases [][]input) ([]schemas.Commission, []schemas.PurchaseFact) {
	t.Helper()
	rates := commission.NewRates()
	eng, err := commission.New(commission.Config{}, rates)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]*commission.State{}
	state := func(c string) *commission.State {
		if states[c] == nil {
			states[c] = new(commission.State)
		}
		return states[c]
	}
	var all []schemas.Commission
	var facts []schemas.PurchaseFact
	for _, ph := range phases {
		for _, in := range ph {
			var res commission.Result
			switch in.topic {
			case "businesses":
				b, err := schemas.DecodeBusiness([]byte(in.value))
				if err != nil {
					t.Fatal(err)
				}
				rates.Apply(b)
				continue
			case "enrollments":
				ev, err := schemas.DecodeEnrollment([]byte(in.value))
				if err != nil || ev.ClientID != in.key {
					continue
				}
				res, _ = eng.Enrollment(state(ev.ClientID), ev)
			case "bookings":
				ev, err := schemas.DecodeBooking([]byte(in.value))
				if err != nil || ev.ClientID != in.key {
					continue
				}
				res, _ = eng.Booking(state(ev.ClientID), ev)
			}
			all = append(all, res.Commissions...)
			facts = append(facts, res.Facts...)
		}
	}
	return all, facts
}

// TestLedgerCrash runs `taskole ledger` as subprocesses, SIGKILLs them at several points of
// every phase and restarts them, with a second instance joining mid-run: the ledger read
// back must equal the uninterrupted run's, commission ids included, and so must the purchase
// facts, byte for byte and each once.
func TestLedgerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is slow")
	}
	brokers := itest.Kafka(t)
	run := newScenarioRun(t, brokers, false)
	a := run.start("a")
	// Wait for the topics (the ledger creates them).
	waitTopic(t, brokers, string(run.topics.Bookings))
	for i, ph := range run.phases {
		run.produce(ph)
		// Kill and restart a mid-phase, twice; the second instance joins in phase 1.
		for k := 0; k < 2; k++ {
			lag := run.killPoint()
			t.Logf("phase %d: SIGKILL instance a with %d records left", i, lag)
			a.Kill() // no graceful shutdown: an open transaction stays open
			a = run.start("a")
			if i == 1 && k == 0 {
				run.start("b")
			}
		}
		run.waitLag(120 * time.Second)
	}
	run.check()
	checkFacts(t, brokers, string(run.topics.PurchaseFacts), referenceFacts(t, run.phases))
}

// checkFacts reads the purchase-facts topic (read_committed) and checks it holds exactly the
// reference's facts, byte for byte, each once, keyed by its client.
func checkFacts(t *testing.T, brokers []string, topic string, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the scenario makes no purchase facts")
	}
	recs := readAll(t, brokers, topic, 60*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(want) })
	time.Sleep(time.Second) // a duplicate would come after the expected count
	recs = readAll(t, brokers, topic, 5*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(recs) })
	got := make([]string, 0, len(recs))
	for _, r := range recs {
		got = append(got, string(r.Key)+" "+string(r.Value))
	}
	sort.Strings(got)
	if len(got) != len(want) {
		t.Errorf("%d purchase facts after crashes, the uninterrupted run has %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("purchase facts differ from the uninterrupted run, first at %d:\n got %s\nwant %s", i, got[i], want[i])
			break
		}
	}
}

func waitTopic(t *testing.T, brokers []string, topic string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if lagOf(t, brokers, "nobody", topic) >= 0 {
			cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
			ok := topicExists(t, cl, topic)
			cl.Close()
			if ok {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("topic %s not created in time", topic)
}

// killPoint waits until the group committed part, not all, of the pending input (or 20s).
func killPoint(t *testing.T, brokers []string, group string, topics ...string) int64 {
	t.Helper()
	start := lagOf(t, brokers, group, topics...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		l := lagOf(t, brokers, group, topics...)
		if l < start || l == 0 {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	return start
}

func waitLag(t *testing.T, brokers []string, group string, timeout time.Duration, topics ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if lagOf(t, brokers, group, topics...) == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("group %s did not catch up on %v in %v (lag %d)", group, topics, timeout, lagOf(t, brokers, group, topics...))
}
