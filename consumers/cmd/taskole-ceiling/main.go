// Command taskole-ceiling runs one of the throughput ceilings `make bench` measures the
// ledger against (package consumers/tools/ceiling): `taskole-ceiling stream` (the stream
// framework with a no-op handler) or `taskole-ceiling passthrough` (bare franz-go: consume,
// produce unchanged, commit); `taskole-ceiling ledger` runs the ledger runner itself in this
// process, for --cpuprofile. Bench-only: deploy/local/bench.sh builds it into
// bin/taskole-ceiling; it is not part of the taskole binary.
//
// Flags also read TASKOLE_KAFKA_BROKERS, TASKOLE_TOPIC_PREFIX and TASKOLE_METRICS_ADDR.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/runners/ops"
	"github.com/taskole/revshare/consumers/tools/ceiling"
	"github.com/taskole/revshare/consumers/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "taskole-ceiling: %v\n", err)
		os.Exit(1)
	}
}

// runner is a ceiling as this command runs it.
type runner interface {
	Run(ctx context.Context) error
	Ready() bool
	Close()
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("taskole-ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("kafka-brokers", env("TASKOLE_KAFKA_BROKERS", "127.0.0.1:9092"), "comma-separated seed brokers")
	prefix := fs.String("topic-prefix", env("TASKOLE_TOPIC_PREFIX", ""), "prefix of every topic and group name")
	metrics := fs.String("metrics-addr", env("TASKOLE_METRICS_ADDR", ""), "listen address of /metrics (empty: none)")
	suffix := fs.String("group-suffix", "", "appended to the group name and transactional id (a fresh group per run)")
	partitions := fs.Int("partitions", 12, "partition count of the ceiling's own topics when created")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile to this file when stopped")
	if len(args) == 0 || (args[0] != "stream" && args[0] != "passthrough" && args[0] != "ledger") {
		return fmt.Errorf("usage: taskole-ceiling stream|passthrough|ledger [flags]")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := ceiling.Config{Brokers: strings.Split(*brokers, ","), TopicPrefix: *prefix, GroupSuffix: *suffix,
		Partitions: int32(*partitions), Logger: log, Registry: reg}
	var r runner
	switch args[0] {
	case "stream":
		r, err = ceiling.NewStream(cfg)
	case "passthrough":
		r, err = ceiling.NewPassThrough(cfg)
	default:
		r, err = ledgerRunner(cfg)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	g, gctx := errgroup.WithContext(ctx)
	if *metrics != "" {
		srv, err := ops.New(ops.Config{Addr: *metrics, Registry: reg, Ready: r.Ready, Logger: log})
		if err != nil {
			return err
		}
		defer srv.Close()
		g.Go(func() error { return srv.Run(gctx) })
	}
	g.Go(func() error { return r.Run(gctx) })
	err = g.Wait()
	if *memprofile != "" {
		if perr := writeHeap(*memprofile); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// startCPUProfile starts profiling the CPU into path (none when empty); call stop at the end.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeap writes a heap profile (live objects as of the last GC, and allocations) to path.
func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("writing heap profile: %w", err)
	}
	return nil
}

// ledgerRunner is the ledger itself, in this process, so that --cpuprofile profiles it over
// the same backlog (group taskole-ledger-profile, a changelog of its own).
func ledgerRunner(cfg ceiling.Config) (runner, error) {
	name := cfg.TopicPrefix + "taskole-ledger-profile" + cfg.GroupSuffix
	return ledger.New(ledger.Config{Brokers: cfg.Brokers, Topics: topology.New(cfg.TopicPrefix).Names(),
		Changelog: name + ".state", Group: name, Instance: "profile", Partitions: cfg.Partitions,
		LeaveOnClose: true, Logger: cfg.Logger, Registry: cfg.Registry})
}
