package sink

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// privateClickHouse is a clickhouse-server of the test's own, which the test may stop.
type privateClickHouse struct {
	t      *testing.T
	config string
	addr   string
	cmd    *exec.Cmd
	done   chan struct{}
}

// startPrivateClickHouse renders deploy/local/clickhouse into a temporary directory with
// free ports and starts clickhouse-server on it. It never touches the shared server.
func startPrivateClickHouse(t *testing.T) *privateClickHouse {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		if itest.Required() {
			t.Fatalf("clickhouse-server not installed: %v", err)
		}
		t.Skip("clickhouse-server not installed")
	}
	run := t.TempDir()
	for _, d := range []string{"data", "tmp", "log", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(run, "clickhouse", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := func() string { _, p, _ := net.SplitHostPort(freeAddr(t)); return p }
	tcp, http, inter := port(), port(), port()
	repl := strings.NewReplacer("@RUN@", run, "@TCP_PORT@", tcp, "@HTTP_PORT@", http, "@INTERSERVER_PORT@", inter)
	for _, f := range []string{"config.xml", "users.xml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "local", "clickhouse", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(run, "clickhouse", f), []byte(repl.Replace(string(raw))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &privateClickHouse{t: t, config: filepath.Join(run, "clickhouse", "config.xml"), addr: "127.0.0.1:" + tcp}
	c.start(bin)
	t.Cleanup(c.stop)
	return c
}

func (c *privateClickHouse) start(bin string) {
	c.t.Helper()
	c.cmd = exec.Command(bin, "--config-file="+c.config)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.done = make(chan struct{})
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := c.done
	go func() { _ = c.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{c.addr}, DialTimeout: time.Second})
		if err == nil {
			err = conn.Ping(context.Background())
			conn.Close()
		}
		if err == nil {
			return
		}
		select {
		case <-done:
			c.t.Fatalf("private clickhouse-server exited during startup (%v)", err)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("private clickhouse-server did not answer within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop stops the server with SIGTERM (SIGKILL after 20s) and waits for it to exit.
func (c *privateClickHouse) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
	}
}

func (c *privateClickHouse) restart() { c.start(c.cmd.Path) }

// TestSinkClickHouseOutage runs `taskole sink` against a private ClickHouse while records
// keep arriving: SIGKILL of the sink, ClickHouse stopped for 30 s (the sink must pause and
// retry, and stop promptly on SIGTERM meanwhile), another SIGKILL, ClickHouse back. The raw
// tables must end equal to what was produced: nothing lost, nothing doubled.
func TestSinkClickHouseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a private clickhouse-server for about a minute")
	}
	ch := startPrivateClickHouse(t)
	e := newEnvOn(t, itest.Kafka(t), ch.addr, "outage")
	buildTaskole(t)

	// A producer writes a chunk every 250 ms for the whole run.
	stopFeed := e.startFeed(t)

	group := "g-" + itest.Unique(t)
	run := 0
	start := func() *sinkProc {
		run++
		return startSink(t, e, e.chAddr, group+"-"+strconv.Itoa(run),
			"--batch-rows", "800", "--batch-interval", "100ms", "--shutdown-timeout", "3s")
	}
	rows := func() uint64 { return e.count(t, "SELECT count() FROM bookings") }

	p := start()
	time.Sleep(4 * time.Second)
	p.Kill() // 1: SIGKILL while copying
	t.Logf("SIGKILL 1 after %d bookings", rows())
	p = start()
	time.Sleep(3 * time.Second)

	before := rows()
	outage := time.Now()
	ch.stop()
	t.Logf("clickhouse stopped after %d bookings", before)
	// The sink notices, pauses fetching and retries.
	for p.metric("taskole_sink_paused") != "1" {
		if time.Since(outage) > 15*time.Second {
			t.Fatalf("sink did not pause fetching while clickhouse was down (paused=%q)", p.metric("taskole_sink_paused"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("sink paused %v after the outage began", time.Since(outage).Round(time.Millisecond))
	time.Sleep(5 * time.Second)
	// SIGTERM while ClickHouse is down: exits promptly (the final flush fails, harmlessly).
	if took, err := p.terminate(t, 15*time.Second); err != nil || took > 8*time.Second {
		t.Errorf("SIGTERM during the outage: exit %v after %v, want 0 within 8s", err, took)
	}
	p = start() // resumes once ClickHouse is back
	time.Sleep(5 * time.Second)
	p.Kill() // 2: SIGKILL during the outage
	t.Log("SIGKILL 2 during the outage")
	p = start()
	time.Sleep(time.Until(outage.Add(30 * time.Second)))
	ch.restart()
	t.Logf("clickhouse back after %v", time.Since(outage).Round(time.Second))
	time.Sleep(3 * time.Second)
	final := stopFeed()
	t.Logf("produced %d records", len(final.recs))
	e.waitFor(t, final, 60*time.Second)
	time.Sleep(time.Second) // give a wrong re-insert the chance to show
	e.verify(t, final)
	if took, err := p.terminate(t, 15*time.Second); err != nil {
		t.Errorf("final SIGTERM: exit %v after %v", err, took)
	}
}

// TestSinkBrokerLoss kills the broker (a private one) with kill -9 while `taskole sink` is
// copying, keeps it down longer than the session timeout and starts it again; more records
// arrive after the restart. The sink must keep running or exit non-zero with a message (a
// supervisor, here the test, restarts it); the raw tables must then equal what Kafka holds:
// every record once, none missing, none doubled, the sink's dead letters once each. Last, the
// broker is killed again right after new input and the sink gets SIGTERM (itest.StopWithBrokerDown).
func TestSinkBrokerLoss(t *testing.T) {
	br := itest.PrivateKafka(t)
	e := newEnvOn(t, []string{br.Addr}, itest.ClickHouse(t), itest.Database(t))
	group := "g-" + itest.Unique(t)
	all := generate(e.topics, "a", 20000)
	e.produce(t, all.recs)

	flags := []string{"--batch-rows", "400", "--batch-interval", "50ms", "--log-level", "info"} // info: the stop line
	p := startSink(t, e, e.chAddr, group, flags...)
	deadline := time.Now().Add(60 * time.Second)
	for e.count(t, "SELECT count() FROM bookings") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the sink stored nothing in 60 s:\n%s", p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("kill -9 of the broker with %d bookings rows stored", e.count(t, "SELECT count() FROM bookings"))
	p = itest.BrokerOutage(t, br, p, "sink", func() *sinkProc { return startSink(t, e, e.chAddr, group, flags...) })
	more := generate(e.topics, "b", 3000)
	e.produce(t, more.recs)
	all.merge(more)
	e.waitFor(t, all, 180*time.Second)
	time.Sleep(time.Second) // a duplicate would come after the expected count
	e.verify(t, all)

	// More records (nothing is checked after this), so that rows are buffered and the
	// dead-letter judge has a transaction open when the broker goes.
	itest.StopWithBrokerDown(t, br, p.Proc, "sink", func() { e.produce(t, generate(e.topics, "c", 3000).recs) })
}
