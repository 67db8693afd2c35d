package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/taskole/revshare/sql/queries"
)

// TestQuerySQL: `taskole query NAME --sql` prints the query's expansion, placeholders kept,
// without a server.
func TestQuerySQL(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	runErr := runCommand(context.Background(), "query", "net_clv", "--sql", "--clickhouse-addr", "127.0.0.1:1")
	os.Stdout = stdout
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil || runErr != nil {
		t.Fatalf("query --sql: %v, reading its output: %v", runErr, err)
	}
	q, err := queries.Lookup("net_clv")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.TrimRight(q.SQL, "\n")+"\n" {
		t.Errorf("query --sql printed\n%.300s\nwant the expansion of net_clv", got)
	}
	if !strings.Contains(string(got), "{until:Date}") || strings.Contains(string(got), "{{") {
		t.Errorf("query --sql: want placeholders and no template action:\n%.300s", got)
	}
}
