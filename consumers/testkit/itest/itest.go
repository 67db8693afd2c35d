// Package itest finds the real Kafka broker and ClickHouse server that integration tests run
// against, and hands out unique topic and database names so tests never share state.
//
// Where the servers come from, in order:
//  1. TASKOLE_KAFKA_BROKERS / TASKOLE_CLICKHOUSE_ADDR, when set (`make test` starts the local
//     servers with deploy/local/servers.sh and sets them);
//  2. otherwise testcontainers, when a Docker engine answers: one Kafka and one ClickHouse
//     container per test binary (so per package), started once and pinned to image tags;
//  3. otherwise the test is skipped, unless TASKOLE_INTEGRATION=1 (as in CI), where it fails.
package itest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// Pinned images for machines with Docker (kept equal to deploy/compose.yaml).
const (
	KafkaImage      = "apache/kafka:4.1.1"
	ClickHouseImage = "clickhouse/clickhouse-server:26.3"
)

// Required reports whether integration tests must run (TASKOLE_INTEGRATION=1).
func Required() bool { return os.Getenv("TASKOLE_INTEGRATION") == "1" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s unavailable: %v (set TASKOLE_KAFKA_BROKERS / TASKOLE_CLICKHOUSE_ADDR, run `make up`, or start Docker)", what, err)
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// skipShort skips the test under -short: starting a private server (what) takes seconds, and
// every test that needs one is slow anyway.
func skipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts " + what + ": skipped under -short")
	}
}

// The test servers, found once per test binary.
var (
	kafkaServer = testServer("TASKOLE_KAFKA_BROKERS", func(v string) []string { return strings.Split(v, ",") },
		startKafkaContainer, pingKafka)
	clickHouseServer = testServer("TASKOLE_CLICKHOUSE_ADDR", func(v string) string { return v },
		startClickHouseContainer, pingClickHouse)
)

// testServer returns a function that finds a test server the first time it is called: from
// the environment variable env when it is set (parsed by parse), otherwise a container
// (start); ping checks that the server answers. Later calls return the first one's result.
func testServer[A any](env string, parse func(string) A, start func() (A, error), ping func(A) error) func() (A, error) {
	return sync.OnceValues(func() (A, error) {
		var addr A
		var err error
		if v := os.Getenv(env); v != "" {
			addr = parse(v)
		} else {
			addr, err = start()
		}
		if err == nil {
			err = ping(addr)
		}
		return addr, err
	})
}

// Kafka returns the seed brokers of the test broker, starting a container once per test
// binary when needed. It checks the broker answers before returning.
func Kafka(t testing.TB) []string {
	t.Helper()
	addrs, err := kafkaServer()
	if err != nil {
		unavailable(t, "kafka", err)
	}
	return addrs
}

func pingKafka(addrs []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// ClickHouse returns the native-protocol address of the test server, starting a container
// once per test binary when needed. It checks the server answers before returning.
func ClickHouse(t testing.TB) string {
	t.Helper()
	addr, err := clickHouseServer()
	if err != nil {
		unavailable(t, "clickhouse", err)
	}
	return addr
}

func pingClickHouse(addr string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		if lastErr = conn.Ping(ctx); lastErr == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return lastErr
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// Unique returns a short name unique to this test run: the test's name plus random hex.
func Unique(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	name := strings.ToLower(strings.Trim(unsafeName.ReplaceAllString(t.Name(), "_"), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "_" + hex.EncodeToString(b[:])
}

// Topic returns a topic name unique to this test (not created).
func Topic(t testing.TB, base string) string {
	t.Helper()
	return "t_" + Unique(t) + "." + base
}

// Topics returns every contract topic under a prefix unique to this test (not created).
func Topics(t testing.TB) schemas.Topics {
	t.Helper()
	return schemas.TopicsUnder("t_" + Unique(t) + ".")
}

// CreateTopics creates the named topics with the given partition count on the test broker and
// deletes them when the test ends.
func CreateTopics(t testing.TB, brokers []string, partitions int32, topics ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("creating admin client: %v", err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err == nil {
		err = awaitLeaders(ctx, adm, partitions, topics)
	}
	if err != nil {
		cl.Close()
		t.Fatalf("creating topics %v: %v", topics, err)
	}
	t.Cleanup(func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, topics...)
	})
}

// DeleteTopicsUnder deletes, when the test ends, every topic of brokers whose name starts with
// prefix: those the test created and those its runners created for themselves (the ledger's
// changelog and repartition topics, the purchase facts), which CreateTopics does not know of.
// A failure is logged, not fatal, as CreateTopics' own clean-up.
func DeleteTopicsUnder(t testing.TB, brokers []string, prefix string) {
	t.Helper()
	if prefix == "" {
		t.Fatal("deleting the topics under an empty prefix would delete every topic")
	}
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Logf("deleting the topics under %s: %v", prefix, err)
			return
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		listed, err := adm.ListTopics(ctx)
		if err != nil {
			t.Logf("listing the topics under %s: %v", prefix, err)
			return
		}
		var names []string
		for _, name := range listed.Names() {
			if strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return
		}
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			t.Logf("deleting the topics under %s: %v", prefix, err)
		}
	})
}

// awaitLeaders waits until the broker's metadata lists every topic with its partitions, each
// with a leader: CreateTopics answers before the partitions are served, and a produce in that
// window fails with UNKNOWN_TOPIC_OR_PARTITION.
func awaitLeaders(ctx context.Context, adm *kadm.Client, partitions int32, topics []string) error {
	for {
		md, err := adm.Metadata(ctx, topics...)
		if err == nil {
			ready := true
			for _, name := range topics {
				td, ok := md.Topics[name]
				if !ok || td.Err != nil || int32(len(td.Partitions)) < partitions {
					ready = false
					break
				}
				for _, pd := range td.Partitions {
					if pd.Err != nil || pd.Leader < 0 {
						ready = false
					}
				}
			}
			if ready {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the partitions' leaders: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Database creates a database unique to this test on the test server and drops it when the
// test ends (set TASKOLE_KEEP_DB=1 to keep it for inspection).
func Database(t testing.TB) string {
	t.Helper()
	addr := ClickHouse(t)
	name := "t_" + Unique(t)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatalf("opening clickhouse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close()
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer conn.Close()
		if os.Getenv("TASKOLE_KEEP_DB") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	})
	return name
}

// freePort asks the kernel for a free TCP port on loopback.
func freePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
