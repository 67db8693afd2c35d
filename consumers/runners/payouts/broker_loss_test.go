package payouts_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestPayoutsBrokerLoss kills the broker (a private one) with kill -9 while `taskole payouts`
// is consuming the ledger, keeps it down longer than the session timeout and starts it again.
// The runner must keep running or exit non-zero with a message (a supervisor, here the test,
// restarts it); the statements must then be byte-identical to those of an undisturbed run of
// the binary over the same ledger and to the pure rules: none lost, none doubled, the two bad
// records dead-lettered exactly once. Last, the broker is killed again right after new input
// and the runner gets SIGTERM (itest.StopWithBrokerDown).
func TestPayoutsBrokerLoss(t *testing.T) {
	br := itest.PrivateKafka(t)
	brokers := []string{br.Addr}
	bin := filepath.Join(t.TempDir(), "taskole")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/taskole/revshare/consumers/cmd/taskole").CombinedOutput(); err != nil {
		t.Fatalf("building taskole: %v\n%s", err, b)
	}
	start := func(v env, extra ...string) *itest.Proc {
		return itest.StartProc(t, exec.Command(bin, append([]string{"payouts", "--kafka-brokers", strings.Join(v.brokers, ","),
			"--topic-prefix", v.prefix, "--metrics-addr", "", "--instance", "loss-test",
			"--commit-interval", "50ms", "--log-level", "info"}, extra...)...))
	}
	l := genLedger(3)
	want := expected(t, l, time.Time{})

	// The undisturbed run over the same ledger, on the same broker under its own prefix.
	calm := newEnvOn(t, brokers)
	p := start(calm)
	calm.produce(t, l, nil)
	undisturbed := map[string]string{}
	calm.statements(t, calm.reader(t, string(calm.topics.Payouts)), undisturbed, len(want), 120*time.Second)
	if _, exited, err := p.Terminate(itest.ShutdownLimit); !exited || err != nil {
		t.Fatalf("undisturbed run: SIGTERM: exited %v, %v\n%s", exited, err, p.Output())
	}
	compare(t, undisturbed, want)

	// With --leave-group (as the Deployments run it): the final SIGTERM also leaves the group,
	// which the broker outage must not turn into a hang.
	v := newEnvOn(t, brokers)
	p = start(v, "--leave-group")
	v.produce(t, l, func(k int) {
		time.Sleep(400 * time.Millisecond) // the runner works through the chunk meanwhile
		if k != 3 {
			return
		}
		t.Logf("kill -9 of the broker after chunk %d", k)
		p = itest.BrokerOutage(t, br, p, "payouts", func() *itest.Proc { return start(v, "--leave-group") })
	})
	got := map[string]string{}
	v.statements(t, v.reader(t, string(v.topics.Payouts)), got, len(want), 180*time.Second)
	compare(t, got, undisturbed)
	compare(t, got, want)
	v.deadLetters(t, 2)
	if t.Failed() {
		t.Logf("payouts output:\n%s", p.Output())
	}

	// More entries (another ledger, new ids; nothing is checked after this), so that a
	// transaction is most likely open when the broker goes.
	itest.StopWithBrokerDown(t, br, p, "payouts", func() { v.produce(t, genLedger(4), nil) })
}
