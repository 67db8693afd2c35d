//go:build unix

package schemas

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds a cpu-ns/op metric to b: the process's user+system CPU time per
// operation, from getrusage, which a loaded machine distorts far less than ns/op (wall
// time). Call it as `defer reportCPU(b)()` before the loop.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
