package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// RebuildFile is the file of a migrations directory that recomputes every rollup from the raw
// tables (not a numbered migration: it runs only when asked, see Rebuild).
const RebuildFile = "rebuild.sql"

// Rebuild runs RebuildFile of fsys against cfg.Database, statement by statement: it empties
// every rollup table and recomputes it from the raw tables with the migrations' own
// INSERT … SELECT. The database must be migrated (Up) first. It returns the number of
// statements run. Not for clusters: TRUNCATE does not take ON CLUSTER here, so on a cluster
// run it against each shard's replica set by hand.
func Rebuild(ctx context.Context, cfg Config, fsys fs.FS) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	if cfg.Cluster != "" {
		return 0, errors.New("rebuilding rollups: not supported with a cluster")
	}
	b, err := fs.ReadFile(fsys, RebuildFile)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", RebuildFile, err)
	}
	conn, err := open(cfg, cfg.Database)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stmts := Split(string(b))
	for i, s := range stmts {
		start := time.Now()
		if err := exec(ctx, cfg, conn, s.SQL); err != nil {
			return i, fmt.Errorf("rebuilding rollups, statement %d at line %d (%s): %w", i+1, s.Line, s.FirstLine(), err)
		}
		cfg.Logger.Info("rebuilt", "statement", s.FirstLine(), "took", time.Since(start).Round(time.Millisecond))
	}
	return len(stmts), nil
}
