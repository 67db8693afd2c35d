package sink

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/itest"
)

// buildTaskole builds the taskole binary into a temporary directory.
func buildTaskole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "taskole")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/taskole/revshare/consumers/cmd/taskole").CombinedOutput()
	if err != nil {
		t.Fatalf("building taskole: %v\n%s", err, out)
	}
	return bin
}

// TestSinkCrash kills `taskole sink` with SIGKILL several times while it copies, restarts
// it, and checks the raw tables hold every produced record exactly once.
func TestSinkCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the binary")
	}
	e := newEnv(t)
	bin := buildTaskole(t)
	prefix := strings.TrimSuffix(string(e.topics.Bookings), "taskole.bookings.v1")
	group := "g-" + itest.Unique(t)

	all := generate(e.topics, "a", 20000)
	e.produce(t, all.recs)

	run := 0
	start := func() *exec.Cmd {
		// A new group each time: nothing waits for the killed member's session to expire,
		// and the resume point can only come from ClickHouse.
		run++
		cmd := exec.Command(bin, "sink", "--batch-rows", "400", "--batch-interval", "50ms", "--metrics-addr", "",
			"--group", group+"-"+strconv.Itoa(run),
			"--log-level", "warn")
		cmd.Env = append(os.Environ(),
			"TASKOLE_KAFKA_BROKERS="+strings.Join(e.brokers, ","),
			"TASKOLE_CLICKHOUSE_ADDR="+e.chAddr,
			"TASKOLE_CLICKHOUSE_DATABASE="+e.db,
			"TASKOLE_TOPIC_PREFIX="+prefix,
		)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for i, after := range []time.Duration{1500 * time.Millisecond, 900 * time.Millisecond, 2 * time.Second, 700 * time.Millisecond} {
		cmd := start()
		time.Sleep(after)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		t.Logf("kill %d: bookings rows so far %d", i+1, e.count(t, "SELECT count() FROM bookings"))
		if i == 1 { // more data arrives between crashes
			more := generate(e.topics, "b", 3000)
			e.produce(t, more.recs)
			all.merge(more)
		}
	}
	cmd := start()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	e.waitFor(t, all, 120*time.Second)
	time.Sleep(time.Second)
	e.verify(t, all)
}
