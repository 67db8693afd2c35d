package sink

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// onAssigned runs when partitions are assigned: it replaces the group's committed offsets
// with ClickHouse's own record (sink_progress + 1) and loads the tables' high-water marks.
func (s *Sink) onAssigned(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil, errStopping
	}
	var keys []tp
	for t, ps := range offsets {
		for p := range ps {
			keys = append(keys, tp{t, p})
		}
	}
	var progress map[tp]int64
	err := s.retry(ctx, "resuming from clickhouse", func(ctx context.Context) error {
		var err error
		if progress, err = s.loadProgress(ctx, keys); err != nil {
			return err
		}
		return s.loadMarks(ctx, keys)
	})
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]kgo.Offset{}
	for _, k := range keys {
		if out[k.topic] == nil {
			out[k.topic] = map[int32]kgo.Offset{}
		}
		s.owned[k] = true
		if p, ok := progress[k]; ok {
			out[k.topic][k.partition] = kgo.NewOffset().At(p + 1).WithEpoch(-1)
			s.progress[k], s.consumed[k] = p, p
		} else {
			out[k.topic][k.partition] = kgo.NewOffset().AtStart()
			delete(s.progress, k)
			delete(s.consumed, k)
		}
	}
	s.ready.Store(true)
	s.log.Info("resumed from clickhouse", "partitions", len(keys))
	return out, nil
}

// onRevoked stores what the sink holds before partitions move to another member; if that
// fails, it drops the buffer and rewinds the partitions it keeps.
func (s *Sink) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		// Close: Run has flushed already; whatever it could not store is read again from
		// sink_progress by the next owner. Never block leaving the group on ClickHouse,
		// and do not touch the client (no SetOffsets) while it leaves.
		s.drop()
		s.forget(revoked)
		return
	}
	if err := s.flush(ctx); err != nil {
		s.log.Warn("flushing before revocation failed; dropping the buffer, the records will be read again", "err", err)
		s.discard()
	}
	s.forget(revoked)
}

// onLost drops everything: another member may already own the partitions.
func (s *Sink) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard()
	s.forget(lost)
}

// drop empties the buffer.
func (s *Sink) drop() {
	for _, t := range s.tables {
		t.reset()
	}
	s.rows = 0
	s.met.buffered.Set(0)
}

// discard drops the buffer and marks every owned partition for a rewind to its stored
// progress. The rewind itself (SetOffsets) happens in Run after its next poll, never inside
// a group callback (franz-go: SetOffsets must not race a revoke).
func (s *Sink) discard() {
	s.drop()
	for k := range s.owned {
		if p, ok := s.progress[k]; ok {
			s.consumed[k] = p
		} else {
			delete(s.consumed, k)
		}
	}
	s.rewind = true
	s.stale = true // a failed insert may have landed: reload the marks before going on
}

// rewindOwned moves every owned partition back to its stored progress. Called by Run with
// s.mu held, while rebalances are blocked (after PollRecords).
func (s *Sink) rewindOwned() {
	rewind := map[string]map[int32]kgo.EpochOffset{}
	for k := range s.owned {
		if rewind[k.topic] == nil {
			rewind[k.topic] = map[int32]kgo.EpochOffset{}
		}
		off := int64(0)
		if p, ok := s.progress[k]; ok {
			off = p + 1
		}
		rewind[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	s.cl.SetOffsets(rewind)
	s.rewind = false
}

func (s *Sink) forget(parts map[string][]int32) {
	for t, ps := range parts {
		for _, p := range ps {
			k := tp{t, p}
			delete(s.owned, k)
			delete(s.progress, k)
			delete(s.consumed, k)
			for _, m := range s.hwm {
				delete(m, k)
			}
		}
	}
}

// loadProgress reads sink_progress for the given partitions.
func (s *Sink) loadProgress(ctx context.Context, keys []tp) (map[tp]int64, error) {
	out, err := s.maxOffsets(ctx, "sink_progress", "", keys)
	if err != nil {
		return nil, fmt.Errorf("reading sink_progress: %w", err)
	}
	return out, nil
}

// maxOffsets returns, for each of keys that table holds, its largest offset: the columns
// topic, partition and offset of sink_progress (prefix "") or _topic, _partition and _offset
// of a raw table (prefix "_"). The one query behind the resume, the marks and their check.
func (s *Sink) maxOffsets(ctx context.Context, table, prefix string, keys []tp) (map[tp]int64, error) {
	out := map[tp]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.ch.Query(ctx, fmt.Sprintf("SELECT %[1]stopic, %[1]spartition, max(%[1]soffset) FROM %[2]s.%[3]s WHERE %[1]stopic IN (%[4]s) GROUP BY %[1]stopic, %[1]spartition",
		prefix, s.cfg.Database, table, s.topicList(keys)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := keySet(keys)
	for rows.Next() {
		var (
			top string
			p   uint32
			o   uint64
		)
		if err := rows.Scan(&top, &p, &o); err != nil {
			return nil, err
		}
		if k := (tp{top, int32(p)}); want[k] {
			out[k] = int64(o)
		}
	}
	return out, rows.Err()
}

// loadMarks reads max(_offset) of every table for the given partitions. A partition's
// records can be in its topic's table and in dlq.
func (s *Sink) loadMarks(ctx context.Context, keys []tp) error {
	for _, t := range s.tables {
		fresh, err := s.maxOffsets(ctx, t.name, "_", keys)
		if err != nil {
			return fmt.Errorf("reading high-water marks of %s: %w", t.name, err)
		}
		for _, k := range keys {
			if o, ok := fresh[k]; ok {
				s.hwm[t][k] = o
			} else {
				delete(s.hwm[t], k)
			}
		}
	}
	return nil
}

func keySet(keys []tp) map[tp]bool {
	m := make(map[tp]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// topicList renders the distinct topics of keys as a quoted SQL list. Topic names are
// restricted by Kafka to [a-zA-Z0-9._-], so quoting cannot be escaped.
func (s *Sink) topicList(keys []tp) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, k := range keys {
		if seen[k.topic] {
			continue
		}
		seen[k.topic] = true
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + strings.ReplaceAll(k.topic, "'", "") + "'")
	}
	return b.String()
}
