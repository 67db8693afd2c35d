package stream

import (
	"math"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The merge of the co-partitioned inputs (in the spirit of Kafka Streams' PartitionGroup).
// Partition number i of every consumed topic (the inputs, then the repartition topic) is one
// task; each of its topic partitions has a FIFO queue of fetched records. The task hands its
// handler the queue head with the smallest merge key — Config.Timestamp, then the input's
// index in Config.Inputs, then the original partition and offset (a forwarded record's
// original coordinates, so the key is a function of the input, not of how the repartition
// topic interleaved it) — and hands nothing while a queue is empty unless that queue is
// caught up: fetched to the last stable offset known for its partition. A head bound for the
// repartition topic is forwarded at once, in offset order: it changes no state of the task.
//
// So the handed order is a function of the records in the queues whenever no empty queue was
// caught up only for now (more records arrived later): always for a backlog or a replay, and
// live whenever every input's timestamps follow the real order. The exception is a record
// that arrives on an input after the task went past its timestamp: it is handled later than
// its time, which is a record late in event time (DESIGN "Co-partitioning").
//
// Offsets committed are those of records handed (handled, forwarded or refused): merely
// buffered records are fetched past but never committed (Processor.commitHook).

// mergeKey orders the heads of a task's queues.
type mergeKey struct {
	ts   int64 // Config.Timestamp, unix nanos; math.MinInt64 when unreadable
	in   int   // index of the original topic in Config.Inputs
	part int32 // original partition
	off  int64 // original offset
}

func (a mergeKey) less(b mergeKey) bool {
	switch {
	case a.ts != b.ts:
		return a.ts < b.ts
	case a.in != b.in:
		return a.in < b.in
	case a.part != b.part:
		return a.part < b.part
	}
	return a.off < b.off
}

// item is one buffered record.
type item struct {
	rec  *kgo.Record // as fetched: its offset is committed once the item is handed
	orig *kgo.Record // the record to handle: rec, or the original of a forwarded record
	bad  error       // a repartition record without a valid origin: refused when handed
	fwd  bool        // not on its key's partition: forwarded to the repartition topic
	key  mergeKey
	at   int64 // when it was buffered (monotonic nanos of the processor): Config.MaxTaskIdle
}

// queue is the buffer of one consumed topic partition.
type queue struct {
	topic   string
	part    int32
	items   []item
	head    int
	next    int64    // offset after the last record fetched (data or control); -1 unknown
	lso     int64    // last stable offset known (from a fetch or a listing); -1 unknown
	listed  int64    // when the listing that last set lso was issued (item.at units); -1 none
	guard   mergeKey // the head that waited when a confirming listing found records unfetched
	guarded bool
	paused  bool
}

func newQueue(topic string, part int32, start int64) *queue {
	if start < 0 {
		start = -1
	}
	return &queue{topic: topic, part: part, next: start, lso: -1, listed: -1}
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) peek() *item { return &q.items[q.head] }

func (q *queue) push(it item) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, it)
}

func (q *queue) pop() item {
	it := q.items[q.head]
	q.items[q.head] = item{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return it
}

// unpop puts it back in front (an aborted transaction's handed items, in reverse order).
// Without room before the head it makes room for as many items as are queued (at least 16)
// in one copy, so putting back a whole transaction is linear, not quadratic, in its items.
func (q *queue) unpop(it item) {
	if q.head == 0 {
		room := max(len(q.items), 16)
		items := make([]item, room+len(q.items), room+cap(q.items))
		copy(items[room:], q.items)
		q.items, q.head = items, room
	}
	q.head--
	q.items[q.head] = it
}

// caughtUp reports whether the queue is empty and fetched to the last stable offset known.
func (q *queue) caughtUp() bool {
	return q.len() == 0 && q.next >= 0 && q.lso >= 0 && q.next >= q.lso
}

// unknown reports whether the queue is empty and it is not known whether its partition has
// records left: its last stable offset (or, before any fetch, its position) must be listed.
func (q *queue) unknown() bool { return q.len() == 0 && (q.lso < 0 || q.next < 0) }

// fetched records that the partition was fetched up to next, of lso stable offsets.
func (q *queue) fetched(next, lso int64) {
	q.next = max(q.next, next)
	if lso >= 0 {
		q.lso = lso
	}
}

// task is the merge of partition number id: one queue per consumed topic, inputs first.
type task struct {
	id int32
	qs []*queue
	// confirm: a head passes an empty caught-up queue only once a listing issued after the
	// head was buffered confirmed it (confirm.go). Set by the Processor.
	confirm bool
}

// nextQueue returns the queue whose head is handed next: a head to forward (at once, it
// changes no state here), else the smallest head by merge key once no queue is empty without
// being caught up and, when a queue is empty, the head was buffered idle ago or earlier
// (now and idle in the units of item.at). nil: nothing can be handed now.
func (t *task) nextQueue(now, idle int64) *queue { return t.choose(now, idle, t.confirm) }

// choose is nextQueue, with the confirmation of empty caught-up queues (confirm.go) required
// or not.
func (t *task) choose(now, idle int64, confirm bool) *queue {
	for _, q := range t.qs {
		if q.len() > 0 && q.peek().fwd {
			return q
		}
	}
	var best *queue
	empty := false
	for _, q := range t.qs {
		if q.len() == 0 {
			if !q.caughtUp() {
				return nil
			}
			empty = true
			continue
		}
		if best == nil || q.peek().key.less(best.peek().key) {
			best = q
		}
	}
	if best != nil && empty && idle > 0 && now-best.peek().at < idle {
		return nil
	}
	if best != nil && empty && confirm && len(t.unconfirmed(best)) > 0 {
		return nil
	}
	return best
}

// buffered returns the number of records in the task's queues.
func (t *task) buffered() int {
	n := 0
	for _, q := range t.qs {
		n += q.len()
	}
	return n
}

// minTimestamp is the merge timestamp of a record Config.Timestamp cannot read: it is handed
// at once (and refused by its handler, as a rule).
const minTimestamp = math.MinInt64

// timestampOf returns the merge timestamp of rec.
func (c Config) timestampOf(rec *kgo.Record) int64 {
	if c.Timestamp == nil {
		return rec.Timestamp.UnixNano()
	}
	t, ok := c.Timestamp(rec)
	if !ok {
		return minTimestamp
	}
	return t.UnixNano()
}
