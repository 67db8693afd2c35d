package ledger

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// terminateWithBrokerDown is itest.StopWithBrokerDown for a ledger instance: load, kill -9
// of the broker, SIGTERM a second later; exit 0 within the hang guard with "ledger stopped"
// logged (the instance must run with --log-level info), or, when the instance had already
// exited on its own, a non-zero exit with its "taskole ledger: …" message.
func (in *instance) terminateWithBrokerDown(t *testing.T, br *itest.Broker, load func()) {
	t.Helper()
	load()
	br.Kill()
	time.Sleep(time.Second) // the instance most likely has records in flight
	if done, err := in.exited(); done {
		itest.CheckFatalExit(t, "ledger", err, in.out.String())
		t.Logf("ledger had exited on its own with the broker down (%v): %s", err, itest.LineWith(in.out.String(), "taskole ledger:"))
		return
	}
	start := time.Now()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(itest.ShutdownLimit):
		_ = in.cmd.Process.Signal(syscall.SIGQUIT) // goroutine dump into the output
		select {
		case <-in.done:
		case <-time.After(5 * time.Second):
			in.kill()
		}
		t.Fatalf("ledger did not exit within %v of SIGTERM with the broker down:\n%s", itest.ShutdownLimit, in.out)
	}
	t.Logf("ledger exited %v after SIGTERM with the broker down (%v)", time.Since(start).Round(time.Millisecond), in.err)
	if line := itest.LineWith(in.out.String(), itest.NotCommittedLine); line != "" {
		t.Logf("ledger stopped with a transaction open (left to the broker's abort): %s", line)
	}
	if in.err != nil {
		t.Errorf("ledger: SIGTERM with the broker down: %v, want exit 0:\n%s", in.err, in.out)
	}
	if !strings.Contains(in.out.String(), "ledger stopped") {
		t.Errorf("ledger: no \"ledger stopped\" line after SIGTERM with the broker down:\n%s", in.out)
	}
}
