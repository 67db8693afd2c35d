package itest

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Insert writes rows into the columns cols (a comma-separated list, as in an INSERT) of table
// on conn, in one batch, and fails the test on any error.
func Insert(ctx context.Context, t testing.TB, conn clickhouse.Conn, table, cols string, rows [][]any) {
	t.Helper()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+cols+")")
	if err != nil {
		t.Fatalf("preparing insert into %s: %v", table, err)
	}
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			t.Fatalf("appending to %s: %v", table, err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("inserting into %s: %v", table, err)
	}
}
