package main

import (
	"context"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/sql/migrations"
)

func migrateCommand() command {
	const summary = "create the ClickHouse database if missing and apply the pending migrations of sql/migrations (twice is a no-op)"
	return command{
		name:    "migrate",
		summary: "apply pending ClickHouse migrations",
		run: func(ctx context.Context, args []string) error {
			fs := newFlags("migrate", summary)
			var c common
			c.register(fs, "")
			cluster := fs.String("cluster", "", "remote_servers cluster: run every DDL ON CLUSTER with Replicated* engines (empty: one server)")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			log, err := c.logger("migrate")
			if err != nil {
				return err
			}
			chc, err := c.clickhouse()
			if err != nil {
				return err
			}
			res, err := migrate.Up(ctx, migrate.Config{
				Addr:     c.chAddr,
				Username: chc.User,
				Password: chc.Password,
				TLS:      chc.TLS,
				Database: c.chDatabase,
				Cluster:  *cluster,
				Logger:   log,
			}, migrations.FS())
			if err != nil {
				return err
			}
			log.Info("migrations up to date", "database", c.chDatabase, "applied", len(res.Applied), "already_applied", res.Current)
			return nil
		},
	}
}
