package payouts_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/itest"
)

// brokerDown is how long the broker stays killed: longer than the runners' default session
// timeout (15 s), so the coordinator has expired the member by the time it can answer again.
const brokerDown = 20 * time.Second

// shutdownLimit is the hang guard of a SIGTERM while the broker is down, not a timing
// assertion: the runner bounds the end of its transaction by --transaction-timeout (10 s).
const shutdownLimit = 90 * time.Second

// TestPayoutsBrokerLoss kills the broker (a private one) with kill -9 while `taskole payouts`
// is consuming the ledger, keeps it down longer than the session timeout and starts it again.
// The runner must keep running or exit non-zero with a message (a supervisor, here the test,
// restarts it); the statements must then be byte-identical to those of an undisturbed run of
// the binary over the same ledger and to the pure rules: none lost, none doubled, the two bad
// records dead-lettered exactly once. Last, with the broker killed again, SIGTERM must stop
// the runner within the hang guard, with its stop logged.
func TestPayoutsBrokerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("broker loss test is slow")
	}
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
	if _, exited, err := p.Terminate(shutdownLimit); !exited || err != nil {
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
		br.Kill()
		time.Sleep(brokerDown)
		br.Start()
		if exited, err := p.Exited(); exited {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(p.Output(), "taskole payouts:") {
				t.Fatalf("payouts exited during the broker outage without a non-zero exit and a message (%v):\n%s", err, p.Output())
			}
			t.Logf("payouts exited with %v; restarting it as a supervisor would", err)
			p = start(v, "--leave-group")
		} else {
			t.Logf("payouts kept running through the broker outage")
		}
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
	terminateWithBrokerDown(t, br, p, "payouts", func() { v.produce(t, genLedger(4), nil) })
}

// terminateWithBrokerDown calls load, kills the broker at once, gives the runner time to
// notice, sends SIGTERM and expects it to exit 0 within the hang guard with its stop logged.
func terminateWithBrokerDown(t *testing.T, br *itest.Broker, p *itest.Proc, name string, load func()) {
	t.Helper()
	load()
	br.Kill()
	time.Sleep(time.Second) // the runner most likely has records in flight
	took, exited, err := p.Terminate(shutdownLimit)
	if !exited {
		t.Fatalf("%s did not exit within %v of SIGTERM with the broker down:\n%s", name, shutdownLimit, p.Output())
	}
	t.Logf("%s exited %v after SIGTERM with the broker down (%v)", name, took.Round(time.Millisecond), err)
	if err != nil {
		t.Errorf("%s: SIGTERM with the broker down: %v, want exit 0:\n%s", name, err, p.Output())
	}
	if line := lineWith(p.Output(), "stopping with the open transaction not committed"); line != "" {
		t.Logf("%s stopped with a transaction open (left to the broker's abort): %s", name, line)
	}
	if !strings.Contains(p.Output(), name+" stopped") {
		t.Errorf("%s: no %q line after SIGTERM with the broker down:\n%s", name, name+" stopped", p.Output())
	}
}

// lineWith returns the first line of out containing s, or "".
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
