package main

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// dropDatabase drops a ClickHouse database if it exists.
func dropDatabase(ctx context.Context, addr, db string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		return fmt.Errorf("opening clickhouse: %w", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
		return fmt.Errorf("dropping database %s: %w", db, err)
	}
	return nil
}
