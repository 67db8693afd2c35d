package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestSecureConnections runs every server-facing subcommand against a private broker whose
// only client listener is SASL_SSL (SCRAM-SHA-512 and PLAIN) and a private ClickHouse whose
// native port is TLS with password users, certificates from a CA generated here. Secrets come
// from files and from TASKOLE_* variables; wrong secrets and plaintext are refused.
func TestSecureConnections(t *testing.T) {
	ca := itest.NewCA(t)
	ch := itest.StartSecureClickHouse(t, ca)
	k := itest.StartSecureKafka(t, ca)

	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scramFile, chFile := write("scram", k.ScramPass), write("ch", ch.Password)
	prefix := "sec-" + itest.Unique(t) + "."
	db := "taskole_sec"
	kafkaSCRAM := []string{"--kafka-brokers", k.Addr, "--kafka-tls-ca-file", ca.CAFile,
		"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", k.ScramUser, "--kafka-sasl-password-file", scramFile}
	kafkaPLAIN := []string{"--kafka-brokers", k.Addr, "--kafka-tls-ca-file", ca.CAFile,
		"--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", k.PlainUser, "--kafka-sasl-password", k.PlainPass}
	chTLS := []string{"--clickhouse-addr", ch.Addr, "--clickhouse-database", db, "--clickhouse-tls-ca-file", ca.CAFile,
		"--clickhouse-user", ch.User, "--clickhouse-password-file", chFile}
	both := func(k []string, extra ...string) []string {
		return append(append(append(append([]string{}, k...), chTLS...), "--topic-prefix", prefix, "--metrics-addr", ""), extra...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	// Refusals first: each must fail, not hang.
	short, scancel := context.WithTimeout(ctx, 15*time.Second)
	defer scancel()
	wrongKafka := append(append([]string{}, kafkaSCRAM[:len(kafkaSCRAM)-1]...), write("bad", "nope"))
	if err := runCommand(short, "lag", append(wrongKafka, "--groups", "g")...); err == nil {
		t.Error("lag with a wrong SCRAM password succeeded")
	}
	if err := runCommand(short, "migrate", "--clickhouse-addr", ch.Addr, "--clickhouse-database", db,
		"--clickhouse-tls-ca-file", ca.CAFile, "--clickhouse-user", ch.User, "--clickhouse-password", "nope"); err == nil {
		t.Error("migrate with a wrong ClickHouse password succeeded")
	}
	if err := runCommand(short, "migrate", "--clickhouse-addr", ch.Addr, "--clickhouse-database", db,
		"--clickhouse-user", ch.User, "--clickhouse-password-file", chFile); err == nil {
		t.Error("migrate in plaintext against the TLS port succeeded")
	}
	if err := runCommand(short, "migrate", append(chTLS[:len(chTLS):len(chTLS)], "--clickhouse-password", "x")...); err == nil ||
		!strings.Contains(err.Error(), "both inline and as a file") {
		t.Errorf("migrate with two passwords: %v, want a refusal", err)
	}

	// The pipeline over TLS and SASL: topics, migrate, simulate, ledger + payouts + sink, lag, query, report.
	if err := runCommand(ctx, "topics", append([]string{"create"}, both(kafkaSCRAM, "--partitions", "2")...)...); err != nil {
		t.Fatalf("topics create: %v", err)
	}
	// The ClickHouse password through the environment this time.
	t.Setenv("TASKOLE_CLICKHOUSE_PASSWORD", ch.Password)
	if err := runCommand(ctx, "migrate", "--clickhouse-addr", ch.Addr, "--clickhouse-database", db,
		"--clickhouse-tls-ca-file", ca.CAFile, "--clickhouse-user", ch.User); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	os.Unsetenv("TASKOLE_CLICKHOUSE_PASSWORD")
	if err := runCommand(ctx, "simulate", both(kafkaPLAIN, "--clients", "40", "--businesses", "6", "--months", "2", "--seed", "7")...); err != nil {
		t.Fatalf("simulate: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(runCtx)
	for _, name := range []string{"ledger", "payouts", "sink"} {
		g.Go(func() error { return runCommand(gctx, name, both(kafkaSCRAM, "--instance", "sec-"+name)...) })
	}
	lagErr := runCommand(gctx, "lag", both(kafkaPLAIN, "--wait", "--timeout", "60s",
		"--groups", "taskole-ledger,taskole-payouts,taskole-sink")...)
	stop()
	if err := g.Wait(); err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("components: %v", err)
	}
	if lagErr != nil {
		t.Fatalf("lag --wait: %v", lagErr)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}, TLS: ca.ClientTLS(t),
		Auth: clickhouse.Auth{Database: db, Username: ch.User, Password: ch.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, table := range []string{"bookings", "enrollments", "commissions"} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		if n == 0 {
			t.Errorf("%s: no rows reached ClickHouse over TLS", table)
		}
		t.Logf("%s: %d rows", table, n)
	}
	if err := runCommand(ctx, "query", append(chTLS, "--format", "tsv", "dlq_counts")...); err != nil {
		t.Errorf("query: %v", err)
	}
	if err := runCommand(ctx, "report", append(chTLS, "--out", filepath.Join(dir, "r.html"), "--text=false")...); err != nil {
		t.Errorf("report: %v", err)
	}
}
