package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

func TestReportCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr, db, _ := itest.MigratedDatabase(ctx, t)
	out := filepath.Join(t.TempDir(), "report.html")
	err := runCommand(ctx, "report", "--clickhouse-addr", addr, "--clickhouse-database", db,
		"--out", out, "--text=false", "--until", "2025-12-01", "--title", "Empty marketplace")
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<title>Empty marketplace</title>") || !strings.Contains(string(b), "No retention data.") {
		t.Errorf("report of an empty database:\n%.500s", b)
	}
	if err := runCommand(ctx, "report", "--until", "December"); err == nil || !strings.Contains(err.Error(), "--until") {
		t.Errorf("bad --until: %v", err)
	}
}
