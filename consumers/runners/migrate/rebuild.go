package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"
)

// A rollup is a table a materialized view of the migrations writes TO; its backfill is the
// migration's INSERT INTO that table (the INSERT … SELECT that filled it from the raw tables
// when the view was created). The rebuild plan is derived from the migrations themselves, so
// a rebuild computes exactly what a fresh install computes and no copy of a backfill can drift.
var (
	viewTarget = regexp.MustCompile(`(?is)^CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?\S+ TO (\S+) AS\b`)
	insertInto = regexp.MustCompile(`(?is)^INSERT INTO (\S+)`)
)

// RebuildPlan returns the statements of a rebuild, in migration order: for every rollup, an
// emptying TRUNCATE and then its backfill. A rollup without a backfill, or with two (a later
// migration must not fill a rollup again: a rebuild would run both), is an error.
func RebuildPlan(ms []Migration) ([]Statement, error) {
	targets := map[string]bool{}
	for _, m := range ms {
		for _, s := range Split(m.SQL) {
			if t := viewTarget.FindStringSubmatch(s.SQL); t != nil {
				targets[t[1]] = true
			}
		}
	}
	var plan []Statement
	filled := map[string]string{}
	for _, m := range ms {
		for _, s := range Split(m.SQL) {
			t := insertInto.FindStringSubmatch(s.SQL)
			if t == nil || !targets[t[1]] {
				continue
			}
			if prev, ok := filled[t[1]]; ok {
				return nil, fmt.Errorf("rollup %s is backfilled by %s and by %s", t[1], prev, m.Name)
			}
			filled[t[1]] = m.Name
			plan = append(plan, Statement{Line: s.Line, SQL: "TRUNCATE TABLE IF EXISTS " + t[1]}, s)
		}
	}
	var missing []string
	for t := range targets {
		if filled[t] == "" {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("rollups without a backfill in the migrations: %s", strings.Join(missing, ", "))
	}
	return plan, nil
}

// Rebuild empties every rollup of the migrations in fsys and recomputes it from the raw
// tables with its migration's own backfill (RebuildPlan), against cfg.Database, statement by
// statement. The database must be migrated (Up) first. It returns the number of statements
// run. Not for clusters: TRUNCATE does not take ON CLUSTER here, so on a cluster run the plan
// against each shard's replica set by hand.
//
// Stop the sink while it runs (or accept a re-run): a row the sink inserts while a table is
// being emptied may reach neither the emptied table nor the SELECT. A row that reaches both is
// harmless for feedback_monthly, whose states are idempotent (uniqExactState of event ids,
// 0101), but counted twice by the purchase rollups, whose cells are sums (0131).
func Rebuild(ctx context.Context, cfg Config, fsys fs.FS) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	if cfg.Cluster != "" {
		return 0, errors.New("rebuilding rollups: not supported with a cluster")
	}
	ms, err := Load(fsys)
	if err != nil {
		return 0, err
	}
	stmts, err := RebuildPlan(ms)
	if err != nil {
		return 0, fmt.Errorf("planning the rebuild: %w", err)
	}
	conn, err := open(cfg, cfg.Database)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	for i, s := range stmts {
		start := time.Now()
		if err := exec(ctx, cfg, conn, s.SQL); err != nil {
			return i, fmt.Errorf("rebuilding rollups, statement %d (%s): %w", i+1, s.FirstLine(), err)
		}
		cfg.Logger.Info("rebuilt", "statement", s.FirstLine(), "took", time.Since(start).Round(time.Millisecond))
	}
	return len(stmts), nil
}
