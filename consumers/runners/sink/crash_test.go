package sink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// taskoleBin is the taskole binary, built once per test binary (see TestMain).
var taskoleBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if taskoleBin.dir != "" {
		os.RemoveAll(taskoleBin.dir)
	}
	os.Exit(code)
}

// buildTaskole builds the taskole binary (once) and returns its path.
func buildTaskole(t *testing.T) string {
	t.Helper()
	taskoleBin.once.Do(func() {
		if taskoleBin.dir, taskoleBin.err = os.MkdirTemp("", "taskole-sink-test"); taskoleBin.err != nil {
			return
		}
		taskoleBin.path = filepath.Join(taskoleBin.dir, "taskole")
		out, err := exec.Command("go", "build", "-o", taskoleBin.path, "github.com/taskole/revshare/consumers/cmd/taskole").CombinedOutput()
		if err != nil {
			taskoleBin.err = fmt.Errorf("building taskole: %w\n%s", err, out)
		}
	})
	if taskoleBin.err != nil {
		t.Fatal(taskoleBin.err)
	}
	return taskoleBin.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sinkProc is one `taskole sink` process, serving /metrics at metrics.
type sinkProc struct {
	*itest.Proc
	metrics string // address of /metrics
}

// startSink runs `taskole sink` against chAddr (the database and topics of e) with extra flags
// (a later --log-level overrides the default warn). Its output is kept, and logged when the
// test fails.
func startSink(t *testing.T, e *testEnv, chAddr, group string, flags ...string) *sinkProc {
	t.Helper()
	bin := buildTaskole(t)
	metrics := freeAddr(t)
	args := append([]string{"sink", "--group", group, "--metrics-addr", metrics, "--log-level", "warn"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"TASKOLE_KAFKA_BROKERS="+strings.Join(e.brokers, ","),
		"TASKOLE_CLICKHOUSE_ADDR="+chAddr,
		"TASKOLE_CLICKHOUSE_DATABASE="+e.db,
		"TASKOLE_TOPIC_PREFIX="+e.topics.Prefix,
	)
	p := &sinkProc{Proc: itest.StartProc(t, cmd), metrics: metrics}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sink %s output:\n%s", group, p.Output())
		}
	})
	return p
}

// terminate sends SIGTERM and returns how long the process took to exit, and its error. It
// fails the test when the process had exited already or does not exit within limit.
func (p *sinkProc) terminate(t *testing.T, limit time.Duration) (time.Duration, error) {
	t.Helper()
	if exited, err := p.Exited(); exited {
		t.Fatalf("taskole sink exited (%v) before SIGTERM", err)
	}
	took, exited, err := p.Terminate(limit) // not exited: SIGQUIT, a goroutine dump in Output
	if !exited {
		t.Fatalf("taskole sink did not exit within %v of SIGTERM", limit)
	}
	return took, err
}

// metric reads one unlabelled sample from the process's /metrics ("" when unavailable).
func (p *sinkProc) metric(name string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

func totalRows(d dataset) int {
	n := 0
	for _, v := range d.rows {
		n += int(v)
	}
	return n
}

// TestSinkSIGTERM: on SIGTERM `taskole sink` stores what it has read and exits 0 within a
// few seconds; a restart then adds only what is new.
func TestSinkSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the binary")
	}
	e := newEnv(t)
	group := "g-" + itest.Unique(t)
	all := generate(e.topics, "a", 3000)
	e.produce(t, all.recs)

	// Batches that never fill and never time out: only the shutdown flush can store them.
	p := startSink(t, e, e.chAddr, group+"-1", "--batch-rows", "1000000", "--batch-interval", "1h")
	want := strconv.Itoa(totalRows(all))
	deadline := time.Now().Add(60 * time.Second)
	for p.metric("taskole_sink_buffered_rows") != want {
		if time.Now().After(deadline) {
			t.Fatalf("sink buffered %q rows, want %s", p.metric("taskole_sink_buffered_rows"), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.count(t, "SELECT count() FROM bookings"); n != 0 {
		t.Fatalf("%d bookings stored before SIGTERM; the test needs them buffered", n)
	}
	took, err := p.terminate(t, 15*time.Second)
	if err != nil {
		t.Fatalf("taskole sink exited with %v after SIGTERM", err)
	}
	if took > 5*time.Second {
		t.Errorf("taskole sink took %v to exit after SIGTERM, want < 5s", took)
	}
	t.Logf("exited 0 %v after SIGTERM", took.Round(time.Millisecond))
	e.verify(t, all) // flushed on the way out, exactly once

	// Restart: what is new is added, nothing is doubled.
	more := generate(e.topics, "b", 700)
	e.produce(t, more.recs)
	all.merge(more)
	p = startSink(t, e, e.chAddr, group+"-2", "--batch-rows", "500", "--batch-interval", "100ms")
	e.waitFor(t, all, 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	if _, err := p.terminate(t, 15*time.Second); err != nil {
		t.Errorf("second run exited with %v", err)
	}
	e.verify(t, all)
}

// TestSinkCrash kills `taskole sink` with SIGKILL several times while it copies, restarts
// it, and checks the raw tables hold every produced record exactly once — purchase_facts
// included: no fact twice (count() = uniqExact(fact_id)) and per booking the stored facts sum
// to what was produced (the rollups fed from it stay exact).
func TestSinkCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the binary")
	}
	e := newEnv(t)
	group := "g-" + itest.Unique(t)

	all := generate(e.topics, "a", 20000)
	facts, wantFacts := generateFacts(e.topics, "a", 6000)
	all.merge(facts)
	e.produce(t, all.recs)

	run := 0
	start := func() *sinkProc {
		// A new group each time: nothing waits for the killed member's session to expire,
		// and the resume point can only come from ClickHouse.
		run++
		return startSink(t, e, e.chAddr, group+"-"+strconv.Itoa(run), "--batch-rows", "400", "--batch-interval", "50ms")
	}
	for i, after := range []time.Duration{1500 * time.Millisecond, 900 * time.Millisecond, 2 * time.Second, 700 * time.Millisecond} {
		p := start()
		time.Sleep(after)
		p.Kill()
		t.Logf("kill %d: bookings rows so far %d", i+1, e.count(t, "SELECT count() FROM bookings"))
		if i == 1 { // more data arrives between crashes
			more := generate(e.topics, "b", 3000)
			moreFacts, w := generateFacts(e.topics, "b", 1000)
			more.merge(moreFacts)
			for k, v := range w {
				wantFacts[k] = v
			}
			e.produce(t, more.recs)
			all.merge(more)
		}
	}
	p := start()
	e.waitFor(t, all, 120*time.Second)
	time.Sleep(time.Second)
	e.verify(t, all)
	e.verifyFacts(t, wantFacts)
	if _, err := p.terminate(t, 15*time.Second); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("final run exited with %v", err)
	}
}
