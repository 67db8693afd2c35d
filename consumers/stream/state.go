package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Handler binds a consumer's logic to a Processor. S is the per-key state type (its zero
// value is a new key); the Processor keeps one S per key per input partition in memory and
// mirrors it to the changelog topic.
//
// Handle is called for each input record, in offset order per topic partition and, across
// the inputs of a partition number, in the merge order of Config.Timestamp (merge.go), on one
// goroutine.
// It reads and changes state through tx (tx.State) and emits output records with
// tx.Produce. Its return value is classified by Classify:
//   - nil: the outputs and state changes become part of the open transaction;
//   - Poison (a *schemas.InvalidError): the record
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

// IncrementalSweeper is implemented by a Sweeper whose Sweep ignores the watermark and is
// idempotent: sweeping a state again, unchanged since its last sweep, changes nothing. The
// processor then sweeps every key of a partition only at the partition's first sweep after
// it was restored (or rolled back), and afterwards only the keys handed out by Tx.State since
// the previous sweep: the same outcome, without visiting every key each SweepEvery.
type IncrementalSweeper interface {
	SweepsIncrementally()
}

// Committer is optionally implemented by a Handler to add records to every transaction that
// changed metadata (Tx.SetMeta), just before it commits: progress markers, say, which then
// commit atomically with the outputs, state and offsets they describe and follow, on each
// output partition, every output of the transaction. An error aborts the transaction.
type Committer interface {
	BeforeCommit(c *Commit) error
}

// Commit is what a Committer sees of a transaction about to commit.
type Commit struct {
	changed []MetaChange
	out     []*kgo.Record
}

// MetaChange is the value a metadata name of an input partition has at the end of the
// transaction that set it.
type MetaChange struct {
	Partition int32 // input partition
	Name      string
	Value     []byte // must not be modified
}

// Changed returns the metadata the transaction set, by partition, then name.
func (c *Commit) Changed() []MetaChange { return c.changed }

// Produce adds r to the transaction, after every record handled in it, on the partition
// r.Partition names (not by key).
func (c *Commit) Produce(r *kgo.Record) { c.out = append(c.out, r) }

// entry is one key's state and the size of its last changelog value.
type entry[S any] struct {
	s    S
	size int32
}

// rawState is the latest changelog value of a key that was restored but not yet decoded, and
// its offset (for errors). The value lives in the partition's arena.
type rawState struct {
	b   []byte
	off int64
}

// arenaChunk is the size of the blocks restored changelog values are copied into.
const arenaChunk = 1 << 20

// part is the state of one input partition. It is owned by the processing goroutine (and,
// while it is being restored, by the restoring goroutine).
//
// A key's state is either decoded, in m, or, after a lazy restore (Config.LazyRestore), still
// its raw changelog value, in raw/raws: it is decoded into m on first access (Tx.State,
// Tx.Peek, a sweep). A key is in at most one of the two.
//
// An IncrementalSweeper's first sweep after a restore does not decode the raw keys (that
// would undo the lazy restore and stall the partition for as long as decoding all of it
// takes): each raw key owes that sweep instead and gets it when it is decoded (get), before
// anyone sees it. Its Sweep depends on the state alone and is idempotent, so a key swept
// when first touched is what it would have been swept at the sweep point: a raw key has not
// changed since.
type part[S any] struct {
	id    int32
	h     Handler[S]
	lazy  bool
	m     store[S]
	raw   map[string]int32 // key (its bytes in rawKeys) → index in raws
	raws  []rawState
	arena []byte
	// rawKeys holds the keys of raw, dropped with them (decodeAll)
	rawKeys keyArena
	err     error // the first failed lazy decode; fatal to the processor
	// owed: an IncrementalSweeper's first sweep passed while keys were raw; each owes it (get)
	owed      bool
	bytes     int64 // sum of the changelog value sizes (raw or decoded)
	wm        int64 // event-time watermark, unix nanos
	wmDirty   bool
	lastSweep int64
	dirty     map[string]struct{}
	// unswept holds the keys handed out by Tx.State since the last sweep, when the Sweeper is
	// an IncrementalSweeper (nil otherwise); swept is whether the partition had a full sweep.
	// Its keys are copies in unsweptKeys, dropped at the sweep: a key the handler took from a
	// decoded record would keep that record's strings alive until then.
	unswept     map[string]struct{}
	unsweptKeys keyArena
	swept       bool
	meta        map[string][]byte   // handler metadata (Tx.Meta), kept in the changelog
	metaDirty   map[string]struct{} // meta names set in the open transaction
}

func newPart[S any](id int32, h Handler[S], lazy bool) *part[S] {
	pt := &part[S]{id: id, h: h, lazy: lazy, m: newStore[S](), raw: make(map[string]int32),
		dirty: make(map[string]struct{}), meta: map[string][]byte{}, metaDirty: map[string]struct{}{}}
	if _, ok := h.(IncrementalSweeper); ok {
		pt.unswept = make(map[string]struct{})
	}
	return pt
}

// len returns the number of keys with state, decoded or not.
func (pt *part[S]) len() int { return pt.m.len() + len(pt.raw) }

// get returns the state of key, decoding it when it is still raw; nil when there is none.
func (pt *part[S]) get(key string) (*entry[S], error) {
	if e := pt.m.find(key); e != nil {
		return e, nil
	}
	i, ok := pt.raw[key]
	if !ok {
		return nil, nil
	}
	r := pt.raws[i]
	var s S
	if err := pt.h.UnmarshalState(&s, r.b); err != nil {
		return nil, fmt.Errorf("decoding state of %q at changelog offset %d: %w", key, r.off, err)
	}
	delete(pt.raw, key)
	pt.raws[i] = rawState{}
	if len(pt.raw) == 0 {
		pt.raws, pt.arena, pt.rawKeys = nil, nil, keyArena{}
	}
	e := pt.m.add(key)
	e.s, e.size = s, int32(len(r.b))
	if pt.owed {
		if sw, ok := pt.h.(Sweeper[S]); ok && sw.Sweep(time.Unix(0, pt.wm).UTC(), &e.s) {
			pt.dirty[key] = struct{}{} // the pruned state is written with the open transaction
		}
	}
	return e, nil
}

// access is get for a Tx: a decoding error is kept in pt.err (the processor stops with it).
func (pt *part[S]) access(key string) (*entry[S], bool) {
	e, err := pt.get(key)
	if err != nil {
		if pt.err == nil {
			pt.err = err
		}
		return nil, false
	}
	return e, true
}

// decodeAll decodes every raw key (before a sweep, which must see every key).
func (pt *part[S]) decodeAll() error {
	if len(pt.raw) == 0 {
		return nil
	}
	keys := make([]string, 0, len(pt.raw))
	for k := range pt.raw {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if _, err := pt.get(k); err != nil {
			return err
		}
	}
	return nil // the last get dropped the raw values and keys
}

// keep copies a restored changelog value into the arena and returns the copy.
func (pt *part[S]) keep(v []byte) []byte {
	if len(v) > cap(pt.arena)-len(pt.arena) {
		pt.arena = make([]byte, 0, max(arenaChunk, len(v)))
	}
	n := len(pt.arena)
	pt.arena = append(pt.arena, v...)
	return pt.arena[n:len(pt.arena):len(pt.arena)]
}

// Changelog keys: a state key is prefixed with 's', processor metadata with 'm'.
const (
	stateKeyPrefix = 's'
	metaKeyPrefix  = 'm'
	metaWatermark  = "mwatermark"
	metaUserPrefix = "m." // + the name given to Tx.SetMeta
)

// ChangelogKey returns the changelog record key of key's state (for tools that write a
// changelog the processor restores; the processor itself builds keys in its own buffers).
func ChangelogKey(key string) []byte { return append([]byte{stateKeyPrefix}, key...) }

// StateKey returns the state key of a changelog record key, and false for a metadata key.
func StateKey(k []byte) (string, bool) {
	if len(k) == 0 || k[0] != stateKeyPrefix {
		return "", false
	}
	return string(k[1:]), true
}

// Tx is the handle a Handler gets for one input record: the record's partition state and the
// open transaction's outputs. It is valid only during the Handle call.
type Tx[S any] struct {
	p     *part[S]
	out   []*kgo.Record
	count []prometheus.Counter
}

// Partition returns the input partition of the record being handled; state is per partition.
func (t *Tx[S]) Partition() int32 { return t.p.id }

// State returns the state of key in this partition, a zero S when the key is new. The state
// is marked changed: at commit it is written to the changelog (a tombstone when empty).
//
// A restored state that cannot be decoded reads as a zero S that is not kept; the processor
// then stops with the decoding error once Handle returns (nothing of the record is committed).
func (t *Tx[S]) State(key string) *S {
	e, ok := t.p.access(key)
	if !ok {
		return new(S)
	}
	if e == nil {
		e = t.p.m.add(key)
	}
	t.p.dirty[key] = struct{}{}
	if t.p.unswept != nil {
		if _, ok := t.p.unswept[key]; !ok {
			t.p.unswept[t.p.unsweptKeys.intern(key)] = struct{}{}
		}
	}
	return &e.s
}

// Peek returns the state of key without marking it changed; the caller must not modify it.
func (t *Tx[S]) Peek(key string) (*S, bool) {
	e, _ := t.p.access(key)
	if e == nil {
		return nil, false
	}
	return &e.s, true
}

// Len returns the number of keys with state in this partition.
func (t *Tx[S]) Len() int { return t.p.len() }

// Keys returns the keys with state in this partition (decoded or not), sorted: a handler
// that visits every key of its partition walks them here instead of keeping an index of its
// own, which would outlive revoked partitions and need an eager restore.
func (t *Tx[S]) Keys() []string {
	keys := make([]string, 0, t.p.len())
	for k := range t.p.m.all() {
		keys = append(keys, k)
	}
	for k := range t.p.raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Produce adds an output record to the transaction. Records are sent when Handle returns nil
// and dropped when it returns an error. Keyed records are partitioned with Kafka's murmur2.
func (t *Tx[S]) Produce(r *kgo.Record) { t.out = append(t.out, r) }

// Count adds one to c when the transaction commits, and only if Handle returns nil: a
// counter of what the committed outputs say, not of how often a record was handled.
func (t *Tx[S]) Count(c prometheus.Counter) { t.count = append(t.count, c) }

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

// Meta returns the value of the handler's metadata name in this partition (nil when unset).
// Metadata is a small per-partition value beside the keyed states (a handler's progress, say):
// it is kept in the changelog, restored with the partition and rolled back with an aborted
// transaction. The caller must not modify the returned bytes, which stay valid until the
// next SetMeta of name.
func (t *Tx[S]) Meta(name string) []byte { return t.p.meta[name] }

// SetMeta sets the handler's metadata name in this partition to v (copied). It is written to
// the changelog when the transaction commits and, before that, shown to a Committer.
//
// The first SetMeta of a name in a transaction copies v into new bytes, because the value
// it replaces may still be held by the previous transaction's changelog record or Committer;
// later ones in the same transaction, which nothing outside it has seen, reuse those bytes (a
// handler that records its progress on every record allocates once per transaction).
func (t *Tx[S]) SetMeta(name string, v []byte) {
	if _, set := t.p.metaDirty[name]; set {
		t.p.meta[name] = append(t.p.meta[name][:0], v...)
		return
	}
	t.p.meta[name] = append([]byte(nil), v...)
	t.p.metaDirty[name] = struct{}{}
}

func encodeWatermark(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func decodeWatermark(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}
