package stream

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Confirming that an empty queue is caught up. A queue is caught up when it was fetched to the
// last stable offset known for its partition; but what is known may be old: a fetch session
// returns only the partitions with new data, so the last stable offset of a quiet partition
// can come from a response older than the head about to pass it, and a record appended to the
// quiet partition before that head was even fetched may sit unseen. So a head passes an empty
// caught-up queue only once a listing of the partition's last stable offset (read_committed)
// issued after the head was buffered confirms it: when the listed offset is beyond the
// queue's position, the queue is not caught up and the task waits for the fetch. The listing
// is batched: one request per loop iteration for every queue that waits for it, issued only
// once the head waited Config.MaxTaskIdle (most records arrive in that time anyway).
//
// With it, a record produced after (acknowledged before the production of) a record of
// another input with an earlier or equal timestamp is never handed before it: DESIGN
// "Determinism: the event-time merge".

// unconfirmed returns the task's empty queues that best's head may pass only after a listing
// issued since it was buffered.
func (t *task) unconfirmed(best *queue) []*queue {
	var qs []*queue
	at := best.peek().at
	for _, q := range t.qs {
		if q.len() == 0 && q.listed < at {
			qs = append(qs, q)
		}
	}
	return qs
}

// awaiting is a queue whose listing stands alone between its task and the hand of head.
type awaiting struct {
	q    *queue
	head mergeKey
}

// awaitingConfirmation returns the queues whose listing stands alone between a task and its
// next hand.
func (p *Processor[S]) awaitingConfirmation() []awaiting {
	now, idle := p.now(), int64(p.cfg.MaxTaskIdle)
	var as []awaiting
	for _, t := range p.tasks {
		if !t.confirm || t.choose(now, idle, true) != nil {
			continue
		}
		if best := t.choose(now, idle, false); best != nil {
			for _, q := range t.unconfirmed(best) {
				as = append(as, awaiting{q: q, head: best.peek().key})
			}
		}
	}
	return as
}

// needConfirm reports whether a task waits for a confirming listing alone.
func (p *Processor[S]) needConfirm() bool { return len(p.awaitingConfirmation()) > 0 }

// confirmCaughtUp lists, in one request, the last stable offsets of the queues awaiting
// confirmation and records them with the time the listing was issued.
func (p *Processor[S]) confirmCaughtUp(ctx context.Context) error {
	as := p.awaitingConfirmation()
	if len(as) == 0 {
		return nil
	}
	issued := p.now()
	var topics []string
	seen := map[string]bool{}
	for _, a := range as {
		if q := a.q; !seen[q.topic] {
			seen[q.topic] = true
			topics = append(topics, q.topic)
		}
	}
	ends, err := kadm.NewClient(p.sess.Client()).ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	if err := ends.Error(); err != nil {
		return err
	}
	for _, a := range as {
		q := a.q
		end, ok := ends.Lookup(q.topic, q.part)
		if !ok || q.len() > 0 {
			continue
		}
		q.fetched(q.next, end.Offset)
		q.listed = issued
		if !q.caughtUp() {
			q.guard, q.guarded = a.head, true
		}
	}
	return nil
}

// noteGuarded logs, for a queue whose confirming listing found records the fetches had not
// shown, whether the first of them is earlier than the head that waited: the head would have
// been handed before it without the listing.
func (p *Processor[S]) noteGuarded(q *queue, first mergeKey) {
	if !q.guarded {
		return
	}
	q.guarded = false
	if first.less(q.guard) {
		p.log.Info("the confirming listing kept a head from passing an earlier record", "topic", q.topic, "partition", q.part)
	}
}
