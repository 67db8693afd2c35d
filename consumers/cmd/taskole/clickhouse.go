package main

import (
	"context"
	"fmt"
)

// dropDatabase drops a ClickHouse database if it exists.
func dropDatabase(ctx context.Context, c *common, db string) error {
	conn, err := c.openClickHouse("")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
		return fmt.Errorf("dropping database %s: %w", db, err)
	}
	return nil
}
