package itest

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ShutdownLimit is the hang guard of a SIGTERM while the broker is down, not a timing
// assertion: the runners bound the end of an open transaction by their transaction timeout
// (10 s) and their leave and the sink's final flush by 5–10 s.
const ShutdownLimit = 90 * time.Second

// NotCommittedLine is what the ledger and payouts log when they stop with a transaction
// they could not end (consumers/stream, Processor.Run).
const NotCommittedLine = "stopping with the open transaction not committed"

// StopWithBrokerDown calls load (input for the runner, so that it most likely has a
// transaction open or rows buffered), kills the broker at once, waits a second and sends
// SIGTERM to p, the `taskole <name>` runner. The runner must then exit within ShutdownLimit,
// 0 and with "<name> stopped" logged (it must log at info). A runner that exited on its own
// before the signal — a transaction end it could not confirm once the broker went — must
// have exited non-zero with its "taskole <name>: …" message, for a supervisor to restart it.
func StopWithBrokerDown(t *testing.T, br *Broker, p *Proc, name string, load func()) {
	t.Helper()
	load()
	br.Kill()
	time.Sleep(time.Second)
	if exited, err := p.Exited(); exited {
		CheckFatalExit(t, name, err, p.Output())
		t.Logf("%s had exited on its own with the broker down (%v): %s", name, err, LineWith(p.Output(), "taskole "+name+":"))
		return
	}
	took, exited, err := p.Terminate(ShutdownLimit)
	if !exited {
		t.Fatalf("%s did not exit within %v of SIGTERM with the broker down:\n%s", name, ShutdownLimit, p.Output())
	}
	t.Logf("%s exited %v after SIGTERM with the broker down (%v)", name, took.Round(time.Millisecond), err)
	if line := LineWith(p.Output(), NotCommittedLine); line != "" {
		t.Logf("%s stopped with a transaction open (left to the broker's abort): %s", name, line)
	}
	if err != nil {
		t.Errorf("%s: SIGTERM with the broker down: %v, want exit 0:\n%s", name, err, p.Output())
	}
	if !strings.Contains(p.Output(), name+" stopped") {
		t.Errorf("%s: no %q line after SIGTERM with the broker down:\n%s", name, name+" stopped", p.Output())
	}
}

// CheckFatalExit fails the test unless err is a non-zero exit and out holds the runner's
// "taskole <name>: …" message: how a runner that cannot go on must end.
func CheckFatalExit(t *testing.T, name string, err error, out string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(out, "taskole "+name+":") {
		t.Fatalf("%s exited without a non-zero exit and a message (%v):\n%s", name, err, out)
	}
}

// LineWith returns the first line of out containing s, or "".
func LineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
