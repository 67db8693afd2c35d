package itest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Broker is a single-node Kafka broker of the test's own, on free ports, which the test may
// kill -9 and start again (the shared broker must never be stopped: other tests use it). It
// is started by deploy/local/servers.sh, the one way the project starts a broker, with its
// run directory under the test's temporary directory. The broker jars are those `make up`
// fetched (${TASKOLE_RUN_DIR:-<project>/.run}/kafka/libs) or TASKOLE_KAFKA_LIBS.
type Broker struct {
	t       testing.TB
	servers string
	run     string
	env     []string
	Addr    string // host:port of the PLAINTEXT listener
}

// PrivateKafka starts a private broker and stops it when the test ends. Without the jars it
// fails the test when integration is required, else skips it; under -short it skips it.
func PrivateKafka(t testing.TB) *Broker {
	t.Helper()
	skipShort(t, "a private broker")
	project, err := projectRoot()
	if err != nil {
		t.Fatalf("finding the project root: %v", err)
	}
	libs := os.Getenv("TASKOLE_KAFKA_LIBS")
	if libs == "" {
		run := os.Getenv("TASKOLE_RUN_DIR") // where servers.sh keeps the shared servers
		if run == "" {
			run = filepath.Join(project, ".run")
		}
		libs = filepath.Join(run, "kafka", "libs")
	}
	if _, err := os.Stat(filepath.Join(libs, ".pom.sha")); err != nil {
		unavailable(t, "kafka broker jars", fmt.Errorf("%s: %w (run `make up` or set TASKOLE_KAFKA_LIBS)", libs, err))
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cport, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	if err := os.MkdirAll(filepath.Join(run, "kafka"), 0o755); err != nil {
		t.Fatal(err)
	}
	// servers.sh installs the jars under its run directory; share the fetched ones.
	if err := os.Symlink(libs, filepath.Join(run, "kafka", "libs")); err != nil {
		t.Fatal(err)
	}
	b := &Broker{
		t:       t,
		servers: filepath.Join(project, "deploy", "local", "servers.sh"),
		run:     run,
		env: append(os.Environ(), "TASKOLE_RUN_DIR="+run,
			"TASKOLE_KAFKA_PORT="+strconv.Itoa(port), "TASKOLE_KAFKA_CONTROLLER_PORT="+strconv.Itoa(cport)),
		Addr: "127.0.0.1:" + strconv.Itoa(port),
	}
	t.Cleanup(b.Kill) // registered after TempDir: runs before its removal
	b.Start()
	return b
}

// Start starts the broker (again) and returns once it answers.
func (b *Broker) Start() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // not t.Context(): a cleanup may restart it
	defer cancel()
	cmd := exec.CommandContext(ctx, b.servers, "up", "kafka")
	cmd.Env = b.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("starting the private broker: %v\n%s", err, out.String())
	}
}

// Kill sends SIGKILL to the broker JVM (no clean shutdown) and waits until it is gone.
func (b *Broker) Kill() {
	raw, err := os.ReadFile(filepath.Join(b.run, "kafka", "pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(b.run, "kafka", "pid"))
}

// projectRoot is the nearest directory above the working directory holding go.mod.
func projectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
