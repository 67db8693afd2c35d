package itest

import (
	"testing"
	"time"
)

// BrokerDown is how long BrokerOutage keeps the broker down: longer than the runners' default
// session timeout (15 s), so the coordinator has expired the member by the time it can answer
// again.
const BrokerDown = 20 * time.Second

// runnerProc is what BrokerOutage needs of a `taskole <name>` subprocess (a Proc, or a
// test's wrapper of one).
type runnerProc interface {
	Exited() (bool, error)
	Output() string
}

// BrokerOutage kills the broker, keeps it down for BrokerDown and starts it again. The runner p,
// `taskole <name>`, must keep running through the outage, or have exited non-zero with its
// message (CheckFatalExit); then restart starts it again, as a supervisor would. It returns
// the process that runs on.
func BrokerOutage[P runnerProc](t *testing.T, br *Broker, p P, name string, restart func() P) P {
	t.Helper()
	br.Kill()
	time.Sleep(BrokerDown)
	br.Start()
	if exited, err := p.Exited(); exited {
		CheckFatalExit(t, name, err, p.Output())
		t.Logf("%s exited with %v; restarting it as a supervisor would", name, err)
		return restart()
	}
	t.Logf("%s kept running through the broker outage", name)
	return p
}
