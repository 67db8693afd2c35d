package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// flushRetrying flushes until it succeeds (see retry).
func (s *Sink) flushRetrying(ctx context.Context) error {
	return s.retry(ctx, "flushing", s.flush)
}

// flush inserts every buffered table, records progress and commits group offsets. It may be
// called again after a failure: tables already stored are skipped. Called with s.mu held.
func (s *Sink) flush(ctx context.Context) error {
	start := time.Now()
	for _, t := range s.tables {
		if t.rows == 0 {
			continue
		}
		if err := s.insert(ctx, t); err != nil {
			if errors.Is(err, errOvertaken) {
				// Another member stored records this sink still buffers: drop the buffer and
				// rewind; the marks are reloaded before anything is buffered again.
				s.log.Warn("dropping the buffer: the partitions were stored by another member", "err", err)
				s.discard()
				return nil
			}
			return err
		}
		for k, o := range t.last {
			s.hwm[t][k] = o
		}
		s.met.inserted.WithLabelValues(t.name).Add(float64(t.rows))
		t.reset()
	}
	s.rows = 0
	s.met.buffered.Set(0)
	if err := s.recordProgress(ctx); err != nil {
		return err
	}
	s.met.flushSeconds.Observe(time.Since(start).Seconds())
	// Informational: the resume point is sink_progress and the tables themselves.
	if err := s.cl.CommitUncommittedOffsets(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("committing group offsets (informational)", "err", err)
	}
	return nil
}

// insert sends one table's buffer as one INSERT. After a failed attempt it first checks
// whether the previous attempt landed after all.
func (s *Sink) insert(ctx context.Context, t *table) error {
	landed, err := s.landed(ctx, t)
	if err != nil {
		return err
	}
	if landed {
		s.log.Info("insert landed although its acknowledgement was lost", "table", t.name, "rows", t.rows)
		return nil
	}
	if t.guarded {
		if err := s.checkMarks(ctx, t); err != nil {
			return err
		}
	}
	b, err := s.ch.PrepareBatch(ctx, t.query, driver.WithReleaseConnection())
	if err != nil {
		return fmt.Errorf("preparing insert into %s: %w", t.name, err)
	}
	t.inserted.fill(t.rows)
	for i, c := range t.cols {
		if err := c.col.appendTo(b.Column(i)); err != nil {
			_ = b.Abort()
			return fmt.Errorf("appending column %s.%s: %w", t.name, c.name, err)
		}
	}
	t.attempted = true
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d rows into %s: %w", t.rows, t.name, err)
	}
	t.attempted = false
	return nil
}

// landed reports whether a previous, failed attempt to insert t's buffer was stored.
func (s *Sink) landed(ctx context.Context, t *table) (bool, error) {
	if !t.attempted {
		return false, nil
	}
	var there, missing []string
	for k, o := range t.last {
		var n uint64
		row := s.ch.QueryRow(ctx, "SELECT count() FROM "+s.cfg.Database+"."+t.name+
			" WHERE _topic = ? AND _partition = ? AND _offset = ?", k.topic, uint32(k.partition), uint64(o))
		if err := row.Scan(&n); err != nil {
			return false, fmt.Errorf("checking a failed insert into %s: %w", t.name, err)
		}
		if n > 0 {
			there = append(there, fmt.Sprintf("%s/%d", k.topic, k.partition))
		} else {
			missing = append(missing, fmt.Sprintf("%s/%d", k.topic, k.partition))
		}
	}
	if len(there) > 0 && len(missing) > 0 {
		distributed, err := s.distributed(ctx, t)
		if err != nil {
			return false, err
		}
		if distributed {
			// A Distributed insert is atomic per shard, not across shards (each partition
			// lives on one shard: migrate shards by _topic, _partition). Sending the same
			// batch again is safe: each shard's part of it is the identical block (stamp), which
			// a shard that stored it already drops as a duplicate.
			s.log.Info("insert landed on some shards; sending it again (the shards that have it deduplicate)",
				"table", t.name, "stored", strings.Join(there, ","), "missing", strings.Join(missing, ","))
			t.attempted = false
			return false, nil
		}
		return false, &fatalError{fmt.Errorf("insert into %s landed partly (%s stored, %s not): inserts are not atomic; check max_insert_block_size and the table's PARTITION BY",
			t.name, strings.Join(there, ","), strings.Join(missing, ","))}
	}
	t.attempted = false
	return len(there) > 0, nil
}

// errOvertaken says that a partition's records were stored beyond this sink's mark by someone
// else since the mark was loaded.
var errOvertaken = errors.New("stored beyond this sink's high-water mark by another member")

// checkMarks refuses to insert t's buffer (errOvertaken) when ClickHouse holds, for one of its
// partitions, a record above this sink's mark: another member stored it since the mark was
// loaded — a rebalance zombie that lost the partition while it was blocked in a flush (the
// group moved on after the rebalance timeout) and inserted late, or the partition's new owner
// when this sink is the zombie. Inserting anyway would store those records twice; rows of a
// guarded table feed rollups (materialized views into SummingMergeTree) that cannot take a
// duplicate back. What is left is the window between this query and the insert.
func (s *Sink) checkMarks(ctx context.Context, t *table) error {
	keys := make([]tp, 0, len(t.last))
	for k := range t.last {
		keys = append(keys, k)
	}
	stored, err := s.maxOffsets(ctx, t.name, "_", keys)
	if err != nil {
		return fmt.Errorf("checking the high-water marks of %s: %w", t.name, err)
	}
	for _, k := range keys {
		if o, ok := stored[k]; ok && o > s.mark(t, k) {
			return fmt.Errorf("%s %s/%d holds offset %d, this sink's mark is %d: %w", t.name, k.topic, k.partition, o, s.mark(t, k), errOvertaken)
		}
	}
	return nil
}

// distributed reports whether t is a Distributed table (a sharded cluster).
func (s *Sink) distributed(ctx context.Context, t *table) (bool, error) {
	var engine string
	row := s.ch.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, t.name)
	if err := row.Scan(&engine); err != nil {
		return false, fmt.Errorf("reading the engine of %s: %w", t.name, err)
	}
	return engine == "Distributed", nil
}

// fatalError marks an error no retry can fix.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// recordProgress stores the last handled offset of every partition that advanced.
func (s *Sink) recordProgress(ctx context.Context) error {
	var keys []tp
	for k, o := range s.consumed {
		if p, ok := s.progress[k]; !ok || o > p {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	b, err := s.ch.PrepareBatch(ctx, "INSERT INTO "+s.cfg.Database+".sink_progress (topic, partition, offset)", driver.WithReleaseConnection())
	if err != nil {
		return fmt.Errorf("preparing progress insert: %w", err)
	}
	topics, parts, offs := make([]string, len(keys)), make([]uint32, len(keys)), make([]uint64, len(keys))
	for i, k := range keys {
		topics[i], parts[i], offs[i] = k.topic, uint32(k.partition), uint64(s.consumed[k])
	}
	for i, col := range []any{topics, parts, offs} {
		if err := b.Column(i).Append(col); err != nil {
			_ = b.Abort()
			return fmt.Errorf("appending progress: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting progress: %w", err)
	}
	for _, k := range keys {
		s.progress[k] = s.consumed[k]
	}
	return nil
}
