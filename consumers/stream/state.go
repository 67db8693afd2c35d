package stream

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Handler binds a consumer's logic to a Processor. S is the per-key state type (its zero
// value is a new key); the Processor keeps one S per key per input partition in memory and
// mirrors it to the changelog topic.
//
// Handle is called for each input record, in offset order per partition, on one goroutine.
// It reads and changes state through tx (tx.State) and emits output records with
// tx.Produce. Its return value is classified by Classify:
//   - nil: the outputs and state changes become part of the open transaction;
//   - Poison (*PoisonError, *schemas.FieldError, any error with Label() string): the record
//     is dead-lettered and its outputs are dropped. Handle must leave state unchanged when it
//     returns a poison error (validate first, then mutate);
//   - Retryable: the transaction aborts and the records are processed again;
//   - Fatal: Run stops with the error.
//
// AppendState, UnmarshalState and EmptyState are the changelog codec: an empty state is
// written as a tombstone and forgotten.
type Handler[S any] interface {
	Handle(ctx context.Context, rec *kgo.Record, tx *Tx[S]) error
	AppendState(dst []byte, s *S) ([]byte, error)
	UnmarshalState(s *S, data []byte) error
	EmptyState(s *S) bool
}

// Sweeper is optionally implemented by a Handler to prune state by event time. Sweep is called
// for every key of a partition, inside a transaction, whenever the partition's watermark (see
// Tx.Advance) moved SweepEvery past the previous sweep; it returns whether it changed s.
type Sweeper[S any] interface {
	Sweep(watermark time.Time, s *S) (changed bool)
}

// entry is one key's state and the size of its last changelog value.
type entry[S any] struct {
	s    S
	size int32
}

// part is the state of one input partition. It is owned by the processing goroutine.
type part[S any] struct {
	id        int32
	m         map[string]*entry[S]
	bytes     int64 // sum of the changelog value sizes
	wm        int64 // event-time watermark, unix nanos
	wmDirty   bool
	lastSweep int64
	dirty     map[string]struct{}
}

func newPart[S any](id int32) *part[S] {
	return &part[S]{id: id, m: make(map[string]*entry[S]), dirty: make(map[string]struct{})}
}

// Changelog keys: a state key is prefixed with 's', processor metadata with 'm'.
const (
	stateKeyPrefix = 's'
	metaKeyPrefix  = 'm'
	metaWatermark  = "mwatermark"
)

// Tx is the handle a Handler gets for one input record: the record's partition state and the
// open transaction's outputs. It is valid only during the Handle call.
type Tx[S any] struct {
	p   *part[S]
	out []*kgo.Record
}

// Partition returns the input partition of the record being handled; state is per partition.
func (t *Tx[S]) Partition() int32 { return t.p.id }

// State returns the state of key in this partition, a zero S when the key is new. The state
// is marked changed: at commit it is written to the changelog (a tombstone when empty).
func (t *Tx[S]) State(key string) *S {
	e := t.p.m[key]
	if e == nil {
		e = new(entry[S])
		t.p.m[key] = e
	}
	t.p.dirty[key] = struct{}{}
	return &e.s
}

// Peek returns the state of key without marking it changed; the caller must not modify it.
func (t *Tx[S]) Peek(key string) (*S, bool) {
	e := t.p.m[key]
	if e == nil {
		return nil, false
	}
	return &e.s, true
}

// Len returns the number of keys with state in this partition.
func (t *Tx[S]) Len() int { return len(t.p.m) }

// Produce adds an output record to the transaction. Records are sent when Handle returns nil
// and dropped when it returns an error. Keyed records are partitioned with Kafka's murmur2.
func (t *Tx[S]) Produce(r *kgo.Record) { t.out = append(t.out, r) }

// Watermark returns the partition's event-time watermark: the largest time passed to Advance.
// It is kept in the changelog, so it survives restarts and rebalances.
func (t *Tx[S]) Watermark() time.Time {
	if t.p.wm == 0 {
		return time.Time{}
	}
	return time.Unix(0, t.p.wm).UTC()
}

// Advance moves the partition's watermark to at when at is later.
func (t *Tx[S]) Advance(at time.Time) {
	if n := at.UnixNano(); n > t.p.wm {
		t.p.wm = n
		t.p.wmDirty = true
	}
}

func encodeWatermark(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func decodeWatermark(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}
