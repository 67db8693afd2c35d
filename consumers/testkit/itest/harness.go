package itest

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
)

// The pipeline-test harness: the setup that integration tests of several packages repeat
// (a freshly migrated database, a client, consumers run until the test ends, polling until
// a group has caught up), written once.

// Migrate applies the repository's migrations to database db on the server at addr.
func Migrate(ctx context.Context, t testing.TB, addr, db string) {
	t.Helper()
	if _, err := migrate.Up(ctx, migrate.Config{Addr: addr, Database: db}, migrations.FS()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
}

// MigratedDatabase makes a unique database (Database) on the test server (ClickHouse),
// migrates it (Migrate) and opens a connection to it, closed when the test ends.
func MigratedDatabase(ctx context.Context, t testing.TB) (addr, db string, conn clickhouse.Conn) {
	t.Helper()
	addr = ClickHouse(t)
	db = Database(t)
	Migrate(ctx, t, addr, db)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return addr, db, conn
}

// Pipeline opens what a test of the whole pipeline runs on: the test broker (Kafka) with
// every contract topic under a prefix of the test's own (Topics, not created; every topic
// under the prefix is deleted when the test ends, DeleteTopicsUnder) and a freshly migrated
// database on the test server (MigratedDatabase).
func Pipeline(ctx context.Context, t testing.TB) (brokers []string, topics schemas.Topics, addr, db string, conn clickhouse.Conn) {
	t.Helper()
	brokers, topics = Kafka(t), Topics(t)
	DeleteTopicsUnder(t, brokers, topics.Prefix)
	addr, db, conn = MigratedDatabase(ctx, t)
	return brokers, topics, addr, db, conn
}

// Client returns a Kafka client of brokers with opts, closed when the test ends.
func Client(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Runner is a consumer under test: ledger, payouts or sink.
type Runner interface {
	Run(ctx context.Context) error
	Close()
}

// Start runs each runner in one errgroup under ctx and returns the group's context (done when
// a runner fails) and stop, which cancels them, waits, fails the test (naming what) when one
// returned an error, and closes each. Call stop (deferred) before the test ends.
func Start(ctx context.Context, t testing.TB, what string, runners ...Runner) (context.Context, func()) {
	runCtx, cancel := context.WithCancel(ctx)
	eg, egCtx := errgroup.WithContext(runCtx)
	for _, r := range runners {
		eg.Go(func() error { return r.Run(egCtx) })
	}
	return egCtx, func() {
		cancel()
		if err := eg.Wait(); err != nil {
			t.Errorf("running %s: %v", what, err)
		}
		for _, r := range runners {
			r.Close()
		}
	}
}

// WaitFor polls cond until it holds, failing the test after 90 s or when ctx ends (a
// component failed).
func WaitFor(ctx context.Context, t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s (%v)", what, state, ctx.Err())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// CaughtUp reports whether group has committed the end offset (less slack) of every
// partition of topics, and otherwise the lag.
func CaughtUp(ctx context.Context, adm *kadm.Client, group string, slack int64, topics ...string) (bool, string) {
	return caughtUp(ctx, adm, group, slack, false, topics)
}

// CaughtUpWritten is CaughtUp without slack over the partitions that hold records (a group
// commits nothing on a partition it never read a record of).
func CaughtUpWritten(ctx context.Context, adm *kadm.Client, group string, topics ...string) (bool, string) {
	return caughtUp(ctx, adm, group, 0, true, topics)
}

func caughtUp(ctx context.Context, adm *kadm.Client, group string, slack int64, written bool, topics []string) (bool, string) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return false, err.Error()
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false, err.Error()
	}
	ok, lag := true, int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		if written && o.Offset == 0 {
			return
		}
		c, found := committed.Lookup(o.Topic, o.Partition)
		if !found || c.At < o.Offset-slack {
			ok = false
			lag += o.Offset - max(c.At, 0)
		}
	})
	return ok, fmt.Sprintf("lag %d", lag)
}

// Chromium returns the path of a Chromium or Chrome binary on PATH, or "" when there is none.
func Chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
