package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/sql/migrations"
)

func migrateCommand() command {
	return command{
		name:    "migrate",
		summary: "apply pending ClickHouse migrations",
		help:    "create the ClickHouse database if missing and apply the pending migrations of sql/migrations (twice is a no-op)",
		flags:   migrateFlags,
	}
}

// migrateFlags registers the flags of `taskole migrate`.
func migrateFlags(fs *flag.FlagSet) action {
	cluster := fs.String("cluster", "", "remote_servers cluster: run every DDL ON CLUSTER with Replicated* engines, plus Distributed tables over <table>_local when it has several shards (empty: one server)")
	rebuild := fs.Bool("rebuild-rollups", false, "after migrating, empty every rollup table and recompute it from the raw tables (stop the sink first; not with --cluster)")
	return func(ctx context.Context, c *common) error {
		chc, err := c.clickhouse()
		if err != nil {
			return err
		}
		cfg := migrate.Config{
			Addr:     c.chAddr,
			Username: chc.User,
			Password: chc.Password,
			TLS:      chc.TLS,
			Database: c.chDatabase,
			Cluster:  *cluster,
			Logger:   c.log,
		}
		if *rebuild && *cluster != "" {
			return fmt.Errorf("--rebuild-rollups: not supported with --cluster")
		}
		res, err := migrate.Up(ctx, cfg, migrations.FS())
		if err != nil {
			return err
		}
		c.log.Info("migrations up to date", "database", c.chDatabase, "applied", len(res.Applied), "already_applied", res.Current)
		if !*rebuild {
			return nil
		}
		n, err := migrate.Rebuild(ctx, cfg, migrations.FS())
		if err != nil {
			return err
		}
		c.log.Info("rollups rebuilt from the raw tables", "database", c.chDatabase, "statements", n)
		return nil
	}
}
