package ledger

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/itest"
)

// shutdownLimit is the hang guard of a SIGTERM while the broker is down, not a timing
// assertion: the ledger bounds the end of its open transaction by --transaction-timeout.
const shutdownLimit = 90 * time.Second

// terminateWithBrokerDown calls load (input for the instance, so that a transaction is most
// likely open), kills the broker at once, gives the instance time to notice, sends SIGTERM
// and expects it to exit 0 within the hang guard with "ledger stopped" logged (the instance
// must run with --log-level info).
func (in *instance) terminateWithBrokerDown(t *testing.T, br *itest.Broker, load func()) {
	t.Helper()
	load()
	br.Kill()
	time.Sleep(time.Second) // the runner most likely has records in flight
	start := time.Now()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(shutdownLimit):
		_ = in.cmd.Process.Signal(syscall.SIGQUIT) // goroutine dump into the output
		select {
		case <-in.done:
		case <-time.After(5 * time.Second):
			in.kill()
		}
		t.Fatalf("ledger did not exit within %v of SIGTERM with the broker down:\n%s", shutdownLimit, in.out)
	}
	t.Logf("ledger exited %v after SIGTERM with the broker down (%v)", time.Since(start).Round(time.Millisecond), in.err)
	if in.err != nil {
		t.Errorf("ledger: SIGTERM with the broker down: %v, want exit 0:\n%s", in.err, in.out)
	}
	if line := lineWith(in.out.String(), "stopping with the open transaction not committed"); line != "" {
		t.Logf("ledger stopped with a transaction open (left to the broker's abort): %s", line)
	}
	if !strings.Contains(in.out.String(), "ledger stopped") {
		t.Errorf("ledger: no \"ledger stopped\" line after SIGTERM with the broker down:\n%s", in.out)
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
