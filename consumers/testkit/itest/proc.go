package itest

import (
	"bytes"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a subprocess of a test (a `taskole` runner) with its combined output kept.
//
// Exactly one goroutine calls exec.Cmd.Wait, started with the process; everything else waits
// on Done. Two concurrent Waits on one exec.Cmd race for the single result of its
// output-copying goroutines and the loser blocks forever (WaitDelay does not help: it bounds
// the copy, not the second receive), which is how a probe that "peeks" with its own Wait
// goroutine and a later kill's Wait can hang a test's cleanup.
type Proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// StartProc starts cmd with its stdout and stderr kept, and SIGKILLs it when the test ends.
func StartProc(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{cmd: cmd, out: new(syncBuffer), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	return p
}

// Done is closed once the process has exited and its output is copied.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports, without blocking, whether the process has ended and Wait's result.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Output is what the process wrote so far (stdout and stderr, interleaved).
func (p *Proc) Output() string { return p.out.String() }

// Kill SIGKILLs the process (when still running) and waits for it. It is idempotent.
func (p *Proc) Kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Terminate sends SIGTERM and waits at most limit for the exit. It returns how long the exit
// took, whether it exited within limit, and Wait's result. A process still running at limit
// is sent SIGQUIT (a Go program then writes its goroutines to Output) and killed.
func (p *Proc) Terminate(limit time.Duration) (took time.Duration, exited bool, err error) {
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start), true, p.err
	case <-time.After(limit):
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.Kill()
		}
		return time.Since(start), false, p.err
	}
}

// syncBuffer is a subprocess's output: written by exec's copying goroutine, read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
