package ledger

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
)

// DefaultRatesWait bounds how long one transaction of the ledger waits in all for the rates
// table (Config.RatesWait). It is capped at half the transaction timeout, so that waiting
// never lets the broker abort the open transaction.
const DefaultRatesWait = 3 * time.Second

// The rates gate: which businesses events a booking is judged against is a function of the
// logs, not of how fast the rates follower reads (SPEC R2, DESIGN "Rates are judged once").
//
//  1. Visibility. Every businesses event enters the table with its record timestamp as its
//     announcement (commission.Rates.ApplyAnnounced), and a booking or enrollment is judged
//     with the events announced at or before its own record's timestamp
//     (Engine.AppendBookingAsOf): a rate change announced after the booking does not count,
//     whether or not the follower has read it by then.
//  2. Completeness. Before the handler judges a record fetched after the last check, the gate
//     lists the businesses topic's last stable offsets once and waits until the follower has
//     read up to them (wait). A record was fetched, hence appended, before that listing, so
//     every businesses event appended before the record is in the table when it is judged.
//
// One listing covers every record fetched before it: the processor client's fetch hook
// counts fetched batches, and the gate lists again only when that count moved since its
// last listing began — once per fetch, not per record. The waits of one transaction are
// bounded in all (RatesWait,
// at most half the transaction timeout, so waiting never makes the broker abort it):
// past it the gate logs, counts taskole_ledger_rates_wait_timeouts_total and judges with
// what the table holds, so a stuck follower delays the ledger but never stalls it.
type ratesGate struct {
	admin   *kadm.Client
	topic   string
	limit   time.Duration // per transaction: min(RatesWait, transaction timeout / 2)
	left    time.Duration // of limit, in the open transaction (the handler's goroutine only)
	fetched fetchCounter
	covered uint64 // fetch count when the last listing began (the handler's goroutine only)
	read    readPositions

	waitSeconds prometheus.Histogram
	timeouts    prometheus.Counter
	onTimeout   func(pending map[int32]int64) // logs; pending -1: the end offsets could not be listed
}

func newRatesGate(admin *kgo.Client, topic string, limit, txnTimeout time.Duration) *ratesGate {
	if limit <= 0 {
		limit = DefaultRatesWait
	}
	if txnTimeout <= 0 {
		txnTimeout = stream.DefaultTransactionTimeout
	}
	limit = min(limit, txnTimeout/2)
	g := &ratesGate{admin: kadm.NewClient(admin), topic: topic, limit: limit, left: limit}
	g.read.next = map[int32]int64{}
	g.read.changed = make(chan struct{})
	g.waitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "taskole_ledger_rates_wait_seconds",
		Help:    "Time the ledger waited, per fetched batch, for the rates table to reach the businesses topic's end offsets listed after the batch was fetched.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)})
	g.timeouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_ledger_rates_wait_timeouts_total",
		Help: "Batches judged after the rates wait limit (--rates-wait) passed with the rates table still behind the businesses topic's end offsets: their rates may depend on timing."})
	return g
}

// newGate creates the rates gate of the businesses topic, logging through r.
func (r *Runner) newGate(topic string, limit time.Duration) *ratesGate {
	g := newRatesGate(r.admin, topic, limit, r.cfg.TransactionTimeout)
	g.onTimeout = func(pending map[int32]int64) {
		r.log.Warn("rates table behind the businesses topic past the rates wait; judging with what it holds and counting these partitions as read to their ends",
			"topic", topic, "pending", pending, "rates_wait", g.limit)
	}
	return g
}

// holdBack delays the follower by followDelay (tests: a slow follower); false when ctx ended.
func (r *Runner) holdBack(ctx context.Context) bool {
	if r.followDelay <= 0 {
		return true
	}
	select {
	case <-time.After(r.followDelay):
		return true
	case <-ctx.Done():
		return false
	}
}

// fetchCounter counts the batches the processor's client fetched (kgo.HookFetchBatchRead,
// called before the batch's records can be polled).
type fetchCounter struct{ n atomic.Uint64 }

func (c *fetchCounter) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	c.n.Add(1)
}

// readPositions is how far the follower has read each businesses partition: the offset after
// the last record it applied or skipped (control records included).
type readPositions struct {
	mu      sync.Mutex
	next    map[int32]int64
	changed chan struct{} // closed and replaced on every advance
}

// advance records that the follower has read rec.
func (p *readPositions) advance(rec *kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Offset+1 > p.next[rec.Partition] {
		p.next[rec.Partition] = rec.Offset + 1
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// skip counts the partitions of ends as read up to their ends.
func (p *readPositions) skip(ends map[int32]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, end := range ends {
		p.next[part] = max(p.next[part], end)
	}
}

// behind returns the partitions of ends not read up to their end yet, and a channel closed at
// the next advance.
func (p *readPositions) behind(ends map[int32]int64) (map[int32]int64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pending map[int32]int64
	for part, end := range ends {
		if p.next[part] < end {
			if pending == nil {
				pending = map[int32]int64{}
			}
			pending[part] = end
		}
	}
	return pending, p.changed
}

// newTransaction gives the next transaction its whole wait budget (handler.BeforeCommit).
func (g *ratesGate) newTransaction() { g.left = g.limit }

// wait makes sure every businesses event appended before the records fetched so far is in the
// table, within what is left of the transaction's budget. It returns an error only when ctx
// ends.
func (g *ratesGate) wait(ctx context.Context) error {
	n := g.fetched.n.Load()
	if n == g.covered {
		return nil
	}
	start := time.Now()
	defer func() { g.left -= time.Since(start) }()
	if g.left <= 0 {
		g.timedOut(map[int32]int64{-1: -1})
		g.covered = n
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, g.left)
	defer cancel()
	want, err := g.ends(ctx, lctx)
	if err != nil || want == nil {
		g.covered = n
		return err
	}
	for pruned := false; ; {
		pending, changed := g.read.behind(want)
		if pending == nil {
			break
		}
		if !pruned {
			// A partition whose records all expired (start = end) has nothing to read.
			pruned = true
			if starts, err := g.admin.ListStartOffsets(lctx, g.topic); err == nil {
				starts.Each(func(o kadm.ListedOffset) {
					if o.Err == nil && o.Offset >= want[o.Partition] {
						delete(want, o.Partition)
					}
				})
				continue
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-lctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Judged with what the table holds. The pending partitions count as read to
			// these ends from now on, so a tail the follower cannot reach (compacted away)
			// costs one budget, not one per transaction; the follower still applies what it
			// reads later.
			g.timedOut(pending)
			g.read.skip(pending)
			g.covered = n
			return nil
		}
	}
	g.waitSeconds.Observe(time.Since(start).Seconds())
	g.covered = n
	return nil
}

// ends lists the businesses topic's last stable offsets (read_committed ends), retrying
// until it succeeds or lctx, ctx bounded by the budget, ends (nil: judge with what the table
// holds).
func (g *ratesGate) ends(ctx, lctx context.Context) (map[int32]int64, error) {
	for {
		ends, err := g.admin.ListCommittedOffsets(lctx, g.topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			want := map[int32]int64{}
			ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
			return want, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		retry := time.NewTimer(200 * time.Millisecond)
		select {
		case <-retry.C:
		case <-lctx.Done():
			retry.Stop()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			g.timedOut(map[int32]int64{-1: -1})
			return nil, nil
		}
	}
}

func (g *ratesGate) timedOut(pending map[int32]int64) {
	g.timeouts.Inc()
	if g.onTimeout != nil {
		g.onTimeout(pending)
	}
}
