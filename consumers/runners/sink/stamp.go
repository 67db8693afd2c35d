package sink

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// stamp is the `_inserted_at` of one table's buffered batch: the latest Kafka timestamp of
// the records in it, whole seconds, clamped to DateTime's range. It is the one place the
// column is computed.
//
// The sink sends the column itself instead of leaving it to the server's DEFAULT now(): a
// Replicated table deduplicates an INSERT whose block hashes like a recent one (ClickHouse
// 18.16 has no insert_deduplication_token; the hash covers every column after defaults are
// filled), so the value must be a function of the batch, never of the clock, for a retry of
// the same batch — on the same replica, on the other replica, or through a Distributed table
// to a shard that already has its part — to be the identical block and be dropped. The
// latest record timestamp is the closest such value to the time of the insert (a record is
// inserted within BatchInterval of being fetched, so live it trails the insert by about
// that; on a replay it is when Kafka got the records). No query reads the column and no
// ReplacingMergeTree uses it as its version (the raw tables' engine has none; their rows
// are unique by _topic, _partition, _offset), so nothing else depends on its value.
type stamp struct {
	latest time.Time // latest timestamp of the buffered records
	col    timeCol   // the _inserted_at column, filled by fill before each insert attempt
}

// note accounts for one buffered record.
func (s *stamp) note(r *kgo.Record) {
	if r.Timestamp.After(s.latest) {
		s.latest = r.Timestamp
	}
}

// at returns the batch's _inserted_at.
func (s *stamp) at() time.Time {
	t := s.latest.UTC().Truncate(time.Second)
	switch {
	case t.Before(minDateTime):
		return minDateTime.UTC()
	case t.After(dateTimeCeiling):
		return dateTimeCeiling.UTC()
	}
	return t
}

// fill sets the column to rows copies of at; every attempt of one batch sends the same.
func (s *stamp) fill(rows int) {
	at := s.at()
	s.col = s.col[:0]
	for range rows {
		s.col = append(s.col, at)
	}
}

func (s *stamp) reset() {
	s.latest = time.Time{}
	s.col.reset()
}
