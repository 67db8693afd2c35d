package stream

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The Processor's side of the merge (merge.go): fetched records go to their task's queues
// (buffer), the tasks hand them in merge order inside transactions (dispatch), and each
// transaction commits the offsets after what it handed (commitHook), never after what it
// merely buffered.

// listInterval is how often the last stable offsets of empty partitions of unknown extent
// are listed while a task waits for them (and how long a poll then waits).
const listInterval = 100 * time.Millisecond

// dispatchChunk is how many records a task hands before the next task's turn.
const dispatchChunk = 256

// buffer appends fetched records to their queues. A record below a queue's next offset was
// buffered already (the session rewinds its fetch positions after an abort); control records
// only advance the queue. Records of partitions not owned are dropped: never handed, never
// committed.
func (p *Processor[S]) buffer(fetches kgo.Fetches) {
	var pause map[string][]int32
	now := p.now()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		t := p.tasks[fp.Partition]
		if t == nil || len(fp.Records) == 0 {
			return
		}
		q := t.queue(fp.Topic)
		if q == nil {
			return
		}
		fromRepart := p.nparts > 0 && fp.Topic == p.cfg.Repartition
		before := q.len()
		for _, rec := range fp.Records {
			if q.next >= 0 && rec.Offset < q.next {
				continue
			}
			q.next = rec.Offset + 1
			if rec.Attrs.IsControl() {
				continue
			}
			it := p.itemOf(rec, fromRepart)
			it.at = now
			q.push(it)
		}
		if q.len() > before {
			p.noteGuarded(q, q.items[q.head+before].key)
		}
		q.fetched(q.next, fp.LastStableOffset)
		last := fp.Records[len(fp.Records)-1]
		p.m.lag.WithLabelValues(fp.Topic, itoa32(fp.Partition)).Set(float64(max(fp.HighWatermark-last.Offset-1, 0)))
		if !q.paused && q.len() >= p.cfg.MaxBufferedRecords {
			q.paused = true
			pause = withPart(pause, q)
		}
	})
	if pause != nil {
		p.sess.Client().PauseFetchPartitions(pause)
	}
}

// itemOf returns the queue item of a fetched record with its merge key.
func (p *Processor[S]) itemOf(rec *kgo.Record, fromRepart bool) item {
	it := item{rec: rec, orig: rec}
	switch {
	case fromRepart:
		orig, err := unwrap(rec, p.cfg.Inputs)
		if err != nil {
			it.orig, it.bad = nil, err
			it.key = mergeKey{ts: minTimestamp, in: len(p.cfg.Inputs), part: rec.Partition, off: rec.Offset}
			return it
		}
		it.orig = orig
	case p.nparts > 0 && route(rec, p.nparts) != rec.Partition:
		it.fwd = true
	}
	it.key = mergeKey{ts: p.cfg.timestampOf(it.orig), in: slices.Index(p.cfg.Inputs, it.orig.Topic), part: it.orig.Partition, off: it.orig.Offset}
	return it
}

// queue returns the task's queue of topic.
func (t *task) queue(topic string) *queue {
	for _, q := range t.qs {
		if q.topic == topic {
			return q
		}
	}
	return nil
}

// dispatch hands buffered records in merge order, task by task in chunks, until the open
// transaction is full or no task can hand anything; it opens a transaction before the first
// record. It returns how many records it handed.
func (p *Processor[S]) dispatch(ctx context.Context) (int, error) {
	ids := make([]int32, 0, len(p.tasks))
	for id := range p.tasks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	total := 0
	now, idle := p.now(), int64(p.cfg.MaxTaskIdle)

	for progress := true; progress; {
		progress = false
		for _, id := range ids {
			t, pt := p.tasks[id], p.parts[id]
			if t == nil || pt == nil {
				continue
			}
			n := 0
			for ; n < dispatchChunk && !p.txnFull() && !p.mustAbort; n++ {
				q := t.nextQueue(now, idle)
				if q == nil {
					break
				}
				if err := p.begin(); err != nil {
					return total, err
				}
				if err := p.hand(ctx, pt, q); err != nil {
					return total, err
				}
			}
			if n > 0 {
				progress = true
				total += n
				if p.sw != nil && !p.mustAbort && pt.wm-pt.lastSweep >= int64(p.cfg.sweepEvery()) {
					if err := p.sweep(pt); err != nil {
						return total, err
					}
				}
			}
			if p.mustAbort || p.txnFull() {
				p.resume(t.qs, false)
				return total, nil
			}
			p.resume(t.qs, false)
		}
	}
	return total, nil
}

// txnFull reports whether the open transaction must end before anything more is handed: it
// holds MaxBatchRecords records or has been open CommitInterval. The age bound keeps a slow
// handler (or a starved process) from holding a transaction open towards its timeout while
// records are buffered; a single record that outlasts the timeout is renew.go's case.
func (p *Processor[S]) txnFull() bool {
	return p.txnRecs >= p.cfg.MaxBatchRecords || (p.inTxn && time.Since(p.txnStart) >= p.cfg.CommitInterval)
}

// hand pops q's head and handles, forwards or refuses it in the open transaction.
func (p *Processor[S]) hand(ctx context.Context, pt *part[S], q *queue) error {
	it := q.pop()
	p.undo = append(p.undo, undoEntry{q: q, it: it})
	rec := it.rec
	ps := p.txnHanded[rec.Topic]
	if ps == nil {
		ps = map[int32]kgo.EpochOffset{}
		p.txnHanded[rec.Topic] = ps
	}
	ps[rec.Partition] = kgo.EpochOffset{Epoch: rec.LeaderEpoch, Offset: rec.Offset + 1}
	if p.nparts > 0 && rec.Topic == p.cfg.Repartition {
		p.txnRepart[rec.Partition] = rec.Offset + 1
	}
	switch {
	case it.fwd:
		p.forward(ctx, rec)
		return nil
	case it.bad != nil:
		return p.refuse(ctx, rec, badOrigin(it.bad))
	}
	return p.handle(ctx, pt, it.orig)
}

// putBack returns the items an aborted transaction handed to the front of their queues.
func (p *Processor[S]) putBack() {
	for i := len(p.undo) - 1; i >= 0; i-- {
		u := p.undo[i]
		u.q.unpop(u.it)
	}
}

// resume resumes fetching the paused queues among qs that fell below half the buffer bound
// (all of them when all is set: their partition was dropped).
func (p *Processor[S]) resume(qs []*queue, all bool) {
	var ps map[string][]int32
	for _, q := range qs {
		if q.paused && (all || q.len() < p.cfg.MaxBufferedRecords/2) {
			q.paused = false
			ps = withPart(ps, q)
		}
	}
	if ps != nil {
		p.sess.Client().ResumeFetchPartitions(ps)
	}
}

// withPart adds q's partition to ps (made on first use) and returns ps.
func withPart(ps map[string][]int32, q *queue) map[string][]int32 {
	if ps == nil {
		ps = map[string][]int32{}
	}
	ps[q.topic] = append(ps[q.topic], q.part)
	return ps
}

// commitHook makes the transaction commit the offsets after the records it handed, and
// only those: the session would commit its fetch positions, past merely buffered records.
func (p *Processor[S]) commitHook(req *kmsg.TxnOffsetCommitRequest) error {
	ids := map[string][16]byte{}
	for _, t := range req.Topics {
		ids[t.Topic] = t.TopicID
	}
	req.Topics = req.Topics[:0]
	topics := make([]string, 0, len(p.txnHanded))
	for t := range p.txnHanded {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, topic := range topics {
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = topic
		rt.TopicID = ids[topic] // unknown (zero): the session then commits by topic name
		for part, eo := range p.txnHanded[topic] {
			rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = part, eo.Offset, eo.Epoch
			rp.Metadata = &req.MemberID
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	return nil
}

// now is the processor's monotonic clock for Config.MaxTaskIdle, in nanoseconds.
func (p *Processor[S]) now() int64 { return int64(time.Since(p.epoch)) }

// idleWait returns how long until a record waiting for an empty input may be handed (0: none
// waits).
func (p *Processor[S]) idleWait() time.Duration {
	if p.cfg.MaxTaskIdle <= 0 {
		return 0
	}
	now, idle := p.now(), int64(p.cfg.MaxTaskIdle)
	var wait int64
	for _, t := range p.tasks {
		if t.nextQueue(now, idle) != nil {
			continue
		}
		// Blocked by the wait alone when the head is handed once it has waited enough.
		if q := t.choose(now+idle, idle, false); q != nil {
			if w := q.peek().at + idle - now; w > 0 && (wait == 0 || w < wait) {
				wait = w
			}
		}
	}
	return time.Duration(wait)
}

// needList reports whether a task waits on an empty queue of unknown extent.
func (p *Processor[S]) needList() bool {
	for _, t := range p.tasks {
		for _, q := range t.qs {
			if q.unknown() {
				return true
			}
		}
	}
	return false
}

// listUnknown lists, at most every listInterval, the last stable offsets (and, for a queue
// not yet positioned, the start offsets) of the empty queues of unknown extent: a partition
// listed empty from the queue's position is caught up.
func (p *Processor[S]) listUnknown(ctx context.Context) error {
	if !p.needList() || time.Since(p.lastList) < listInterval {
		return nil
	}
	p.lastList = time.Now()
	issued := p.now()
	adm := kadm.NewClient(p.sess.Client())
	topics := p.consumed()
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	if err := ends.Error(); err != nil {
		return err
	}
	var starts kadm.ListedOffsets
	for _, t := range p.tasks {
		for _, q := range t.qs {
			if q.len() == 0 && q.next < 0 && starts == nil {
				if starts, err = adm.ListStartOffsets(ctx, topics...); err != nil {
					return err
				}
			}
		}
	}
	for _, t := range p.tasks {
		for _, q := range t.qs {
			if !q.unknown() {
				continue
			}
			end, ok := ends.Lookup(q.topic, q.part)
			if !ok {
				continue
			}
			if q.next < 0 {
				// Not fetched and no committed offset: consumed from the start. An empty
				// partition is positioned at its end; any other gets fetched.
				if st, ok := starts.Lookup(q.topic, q.part); ok && st.Offset == end.Offset {
					q.next = end.Offset
				}
			}
			q.fetched(q.next, end.Offset)
			q.listed = issued
		}
	}
	return nil
}
