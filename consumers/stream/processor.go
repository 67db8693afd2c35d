package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Processor runs a Handler exactly once over its input topics. Create it with New, run it
// with Run, stop it by cancelling Run's context; Close releases it.
type Processor[S any] struct {
	cfg  Config
	h    Handler[S]
	sw   Sweeper[S] // h, when it implements Sweeper
	cm   Committer  // h, when it implements Committer
	log  *slog.Logger
	m    *metrics
	sess *kgo.GroupTransactSession

	// Callback side (group goroutine), guarded by mu.
	mu       sync.Mutex
	assigned map[int32]bool // partitions restored or being restored for the loop
	events   []event[S]
	fatal    error
	// wake ends the loop's current poll (nil between polls): a callback that queued an event
	// or a fatal error calls it, so that an idle loop applies it at once (its state gauges
	// and /readyz after a restore, Run's error) instead of at the next fetch.
	wake context.CancelFunc

	// Loop side.
	parts     map[int32]*part[S]
	inTxn     bool
	txnStart  time.Time
	txnRecs   int
	touched   map[int32]bool // partitions whose state the open transaction changed
	mustAbort bool
	committed int64 // transactions committed
	// rejoined: the loop has asked the group for one more round after this process's first
	// restored assignment (rejoinOnce).
	rejoined bool
	prodErr  atomic.Pointer[error]
	promise  func(*kgo.Record, error) // p.produced, one method value for every record (New)
	tx       Tx[S]                    // the one Tx handed to Handle (handle)
	counts   txnCounts
	// With Config.Repartition: the partition count of the inputs, and the next offset of
	// each repartition partition handled in the open transaction (txnRepart) and in
	// committed ones, not yet purged (purge).
	nparts    int32
	txnRepart map[int32]int64
	purge     map[int32]int64
	lastPurge time.Time
	// The merge (merge.go): a task per owned partition number; the items handed in the open
	// transaction (put back in their queues when it aborts) and the offsets after them, which
	// are what the transaction commits (commitHook).
	tasks     map[int32]*task
	undo      []undoEntry
	txnHanded map[string]map[int32]kgo.EpochOffset
	lastList  time.Time
	epoch     time.Time // origin of now (merge.go's item.at)

	running   atomic.Bool
	restoring atomic.Int32
	// joined is set once the group assigned this member anything (or nothing); awaiting is
	// set between an assignment with partitions and the end of their restore, so /readyz
	// never answers ready in the gap before the restore starts.
	joined   atomic.Bool
	awaiting atomic.Bool
	closeMu  sync.Mutex
	closed   bool
}

// event is a change of partition ownership, handed from the group callbacks to the loop.
type event[S any] struct {
	add   map[int32]*part[S]         // restored partitions to own
	start map[int32]map[string]int64 // their consumed topics' start offsets (-1: unknown)
	drop  []int32                    // partitions revoked or lost
}

// resetUndo empties the undo log. Cleared, not only cut: the entries point at fetched
// records, which hold their whole decompressed batches; a large transaction's tail would keep
// them alive indefinitely.
func (p *Processor[S]) resetUndo() {
	clear(p.undo)
	p.undo = p.undo[:0]
}

// undoEntry is an item handed in the open transaction and the queue it came from.
type undoEntry struct {
	q  *queue
	it item
}

// txnCounts are the metric increments of the open transaction, applied when it commits.
type txnCounts struct {
	in, out, repart map[string]float64
	added           map[string]float64 // of out: records a Committer added (Commit.Produce)
	dead            map[[2]string]float64
	handler         map[prometheus.Counter]float64 // Tx.Count
}

func (c *txnCounts) reset() {
	c.in, c.out, c.repart, c.dead = map[string]float64{}, map[string]float64{}, map[string]float64{}, map[[2]string]float64{}
	c.added = map[string]float64{}
	c.handler = map[prometheus.Counter]float64{}
}

// New validates cfg and creates a Processor for h. Run connects and joins the group.
func New[S any](cfg Config, h Handler[S]) (*Processor[S], error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Processor[S]{
		cfg:       cfg,
		h:         h,
		log:       cfg.Logger.With("consumer", cfg.Name),
		m:         newMetrics(cfg.Name, cfg.Registry),
		assigned:  map[int32]bool{},
		parts:     map[int32]*part[S]{},
		touched:   map[int32]bool{},
		txnRepart: map[int32]int64{},
		purge:     map[int32]int64{},
		tasks:     map[int32]*task{},
		epoch:     time.Now(),
		txnHanded: map[string]map[int32]kgo.EpochOffset{},
	}
	p.sw, _ = h.(Sweeper[S])
	p.cm, _ = h.(Committer)
	p.promise = p.produced
	p.counts.reset()
	return p, nil
}

// connect creates the transact session: the client joins the group at once.
func (p *Processor[S]) connect() error {
	// The client joins the group as it is created, so the group callbacks can run before
	// NewGroupTransactSession has returned (CI saw onFetched read a nil p.sess): onFetched
	// gets this connection's client once sess is set (ready), never p.sess, which renew
	// replaces.
	var sess *kgo.GroupTransactSession
	ready := make(chan struct{})
	fetched := func(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return p.onFetched(ctx, sess.Client(), offsets)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(p.cfg.Brokers...),
		kgo.WithLogger(kgoLogger{p.log}),
		kgo.ConsumerGroup(p.cfg.Group),
		kgo.ConsumeTopics(p.consumed()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers tell the merge how far a partition was fetched (merge.go): a
		// partition whose last records are markers or aborted is caught up at its end.
		kgo.KeepControlRecords(),
		kgo.FetchMaxPartitionBytes(p.cfg.FetchMaxPartitionBytes),
		// Partition i of every co-partitioned input goes to the same member, cooperatively.
		kgo.Balancers(copartitioned{}),
		kgo.SessionTimeout(p.cfg.SessionTimeout),
		kgo.RebalanceTimeout(p.cfg.RebalanceTimeout),
		kgo.DisableAutoCommit(),
		kgo.TransactionalID(p.cfg.TransactionalID),
		kgo.TransactionTimeout(p.cfg.TransactionTimeout),
		kgo.RecordPartitioner(partitioner{manual: []string{p.cfg.Changelog, p.cfg.Repartition}, def: kgo.StickyKeyPartitioner(nil)}),
		kgo.AdjustFetchOffsetsFn(fetched),
		kgo.OnPartitionsAssigned(p.onAssigned),
		kgo.OnPartitionsRevoked(p.onRevoked),
		kgo.OnPartitionsLost(p.onLost),
		kgo.WithHooks(p),
	}
	if p.cfg.InstanceID != "-" {
		opts = append(opts, kgo.InstanceID(p.cfg.InstanceID))
	}
	var err error // assign the sess that fetched captured; never shadow it
	sess, err = kgo.NewGroupTransactSession(append(opts, p.cfg.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("creating transact session: %w", err)
	}
	close(ready)
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		sess.Close()
		return errors.New("processor closed")
	}
	p.sess = sess
	return nil
}

// consumed returns the topics consumed in the group: the inputs and the repartition topic.
func (p *Processor[S]) consumed() []string {
	if p.cfg.Repartition == "" {
		return p.cfg.Inputs
	}
	return append(slices.Clone(p.cfg.Inputs), p.cfg.Repartition)
}

// countPartitions sets nparts: the one partition count of the inputs and the repartition
// topic, which routing by key depends on.
func (p *Processor[S]) countPartitions(ctx context.Context) error {
	topics := p.consumed()
	details, err := kadm.NewClient(p.sess.Client()).ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describing topics: %w", err)
	}
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return fmt.Errorf("topic %s does not exist: %w", t, d.Err)
		}
		if p.nparts != 0 && int32(len(d.Partitions)) != p.nparts {
			return fmt.Errorf("co-partitioned topics %v have different partition counts", topics)
		}
		p.nparts = int32(len(d.Partitions))
	}
	return nil
}

// Ready reports whether the processor is in its loop, has joined its group and has every
// assigned partition restored.
func (p *Processor[S]) Ready() bool {
	return p.running.Load() && p.joined.Load() && !p.awaiting.Load() && p.restoring.Load() == 0
}

// onAssigned runs on the group goroutine when the group assigned partitions to this member;
// their restore follows in onFetched. A newly assigned partition this member still holds
// restored was lost or revoked without its callback reaching us (the transact session calls
// the revoke and lost callbacks once per transaction; an idle member ends none, so a second
// loss goes unseen): its state is dropped here, and onFetched restores it afresh.
func (p *Processor[S]) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	p.mu.Lock()
	if stale := p.dropHeld(assigned); len(stale) > 0 {
		p.log.Info("partitions assigned again without a revoke; restoring them afresh", "partitions", stale)
	}
	p.setOwned()
	p.mu.Unlock()
	for _, ps := range assigned {
		if len(ps) > 0 {
			p.awaiting.Store(true)
			break
		}
	}
	p.joined.Store(true)
}

// onLost runs on the group goroutine when the member's session ended (e.g. the broker was
// unreachable for longer than the session timeout): its partitions are dropped, and it is not
// ready until the group assigns it partitions again and they are restored.
func (p *Processor[S]) onLost(ctx context.Context, cl *kgo.Client, lost map[string][]int32) {
	p.joined.Store(false)
	p.onRevoked(ctx, cl, lost)
}

// OnGroupManageError implements kgo.HookGroupManageError: kgo calls it whenever the group
// session ends in an error, also when the transact session does not pass the lost callback
// on (see onAssigned). The member owns nothing until the next assignment.
func (p *Processor[S]) OnGroupManageError(error) { p.joined.Store(false) }

// setOwned sets the partitions gauge from what the callbacks own restored, the one record of
// ownership readiness also follows. p.mu must be held.
func (p *Processor[S]) setOwned() { p.m.partitions.Set(float64(len(p.assigned))) }

// Close leaves the group and closes the client. It is idempotent; call it after Run returns.
func (p *Processor[S]) Close() {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if !p.closed && p.sess != nil {
		p.sess.Close()
		if p.cfg.LeaveOnClose && p.cfg.InstanceID != "-" {
			p.leave()
		}
	}
	p.closed = true
}

// onFetched runs on the group goroutine after the committed offsets of newly assigned
// partitions are known — with RequireStableFetchOffsets, after any transaction of a previous
// owner on them has ended — and before they are consumed: it restores their state, with cl,
// the client of the session whose group assigned them (connect).
func (p *Processor[S]) onFetched(ctx context.Context, cl *kgo.Client, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	defer p.awaiting.Store(false)
	p.mu.Lock()
	var ids []int32
	seen := map[int32]bool{}
	for _, ps := range offsets {
		for id := range ps {
			if !p.assigned[id] && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		return offsets, nil
	}
	p.restoring.Add(1)
	defer p.restoring.Add(-1)
	parts, err := p.restore(ctx, kadm.NewClient(cl), ids)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.fatal == nil && ctx.Err() == nil {
			p.fatal = fmt.Errorf("restoring partitions %v: %w", ids, err)
			p.wakeLoop()
		}
		return nil, err
	}
	start := map[int32]map[string]int64{}
	for id := range parts {
		p.assigned[id] = true
		start[id] = map[string]int64{}
		for t, ps := range offsets {
			if o, ok := ps[id]; ok {
				start[id][t] = o.EpochOffset().Offset
			}
		}
	}
	p.setOwned()
	p.events = append(p.events, event[S]{add: parts, start: start})
	p.wakeLoop()
	return offsets, nil
}

// onRevoked runs on the group goroutine when partitions are revoked or lost: their state is
// dropped (the session aborts an open transaction that touched them).
func (p *Processor[S]) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropHeld(revoked)
	p.setOwned()
}

// dropHeld forgets the partitions of parts this member holds and queues their drop; it
// returns them. The caller holds p.mu.
func (p *Processor[S]) dropHeld(parts map[string][]int32) []int32 {
	var drop []int32
	for _, ps := range parts {
		for _, id := range ps {
			if p.assigned[id] {
				delete(p.assigned, id)
				drop = append(drop, id)
			}
		}
	}
	if len(drop) > 0 {
		p.events = append(p.events, event[S]{drop: drop})
		p.wakeLoop()
	}
	return drop
}

// drain applies ownership events; a dropped partition aborts the open transaction.
func (p *Processor[S]) drain() error {
	p.mu.Lock()
	evs, fatal := p.events, p.fatal
	p.events = nil
	p.mu.Unlock()
	if fatal != nil {
		return fatal
	}
	for _, ev := range evs {
		for _, id := range ev.drop {
			if t := p.tasks[id]; t != nil {
				p.resume(t.qs, true)
				delete(p.tasks, id)
			}
			if p.parts[id] != nil {
				delete(p.parts, id)
				p.mustAbort = p.mustAbort || p.inTxn
				p.m.lag.DeletePartialMatch(map[string]string{"partition": itoa32(id)})
				p.log.Info("partition dropped", "partition", id)
			}
		}
		for id, pt := range ev.add {
			p.parts[id] = pt
			t := &task{id: id, confirm: true}
			for _, topic := range p.consumed() {
				start, ok := ev.start[id][topic]
				if !ok {
					start = -1
				}
				t.qs = append(t.qs, newQueue(topic, id, start))
			}
			p.tasks[id] = t
			p.log.Info("partition restored", "partition", id, "keys", pt.len(), "bytes", pt.bytes)
		}
	}
	if len(evs) > 0 {
		p.updateSizeMetrics()
		p.rejoinOnce()
	}
	return nil
}

// rejoinOnce asks the group for one more round once this process has restored its first
// assignment. A restarted static member is handed the assignment its predecessor had, without
// a rebalance; when the predecessor died between a cooperative round that withheld partitions
// from a new member and the round that would have given them (its revoke and rejoin), nobody
// rejoins and the withheld partitions stay unassigned: TestLedgerCrash saw the group stall so,
// with lag, for minutes. The rejoin sends what this member owns now, so the leader's balancer
// assigns what nobody owns; in every other case it is a round that moves nothing.
func (p *Processor[S]) rejoinOnce() {
	if p.rejoined || len(p.parts) == 0 {
		return
	}
	p.rejoined = true
	p.log.Info("first partitions restored; rejoining the group once (a static member may have been handed a stale assignment)")
	p.sess.Client().ForceRebalance()
}

func (p *Processor[S]) updateSizeMetrics() {
	var keys, bytes int64
	for _, pt := range p.parts {
		keys += int64(pt.len())
		bytes += pt.bytes
	}
	p.m.keys.Set(float64(keys))
	p.m.bytes.Set(float64(bytes))
}

// Run consumes, processes and commits until ctx is cancelled (then it finishes the open
// transaction, within TransactionTimeout, and returns nil) or a fatal error occurs.
func (p *Processor[S]) Run(ctx context.Context) error {
	if p.sess != nil {
		return errors.New("processor already ran")
	}
	if err := p.connect(); err != nil {
		return err
	}
	// Initialize the producer ID now: it fences a predecessor with our transactional ID and
	// makes the broker abort its open transaction, which the restore of our partitions would
	// otherwise wait for until the transaction timeout (kgo initializes it lazily).
	if _, _, err := p.sess.Client().ProducerID(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("initializing producer id: %w", err)
	}
	if p.cfg.Repartition != "" {
		if err := p.countPartitions(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("counting input partitions: %w", err)
		}
	}
	p.running.Store(true)
	defer p.running.Store(false)
	p.log.Info("processor starting", "group", p.cfg.Group, "inputs", p.cfg.Inputs,
		"changelog", p.cfg.Changelog, "repartition", p.cfg.Repartition, "transactional_id", p.cfg.TransactionalID)
	err := p.loopRenewing(ctx)
	if p.inTxn {
		// Finish the open transaction: commit it when all went well (less to redo), else abort.
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.TransactionTimeout)
		endErr := p.end(endCtx, err == nil && !p.mustAbort)
		cancel()
		if endErr != nil {
			// Nothing is lost: the broker aborts the transaction after its timeout, or a
			// restart under the same name fences it at once.
			p.log.Warn("stopping with the open transaction not committed", "error", endErr)
		}
		// A stop whose end failed (the broker is gone, the end ran out of time) is still a
		// clean stop; being fenced by a second process with our name is reported.
		if err == nil && fenced(endErr) {
			err = endErr
		}
	}
	return err
}

// fenced reports whether err says another producer took over our transactional id (an epoch
// error that is not our own transaction's timeout, timeout.go).
func fenced(err error) bool {
	return isEpochError(err) && Classify(err) != Renew
}

func (p *Processor[S]) loop(ctx context.Context) error {
	for {
		if err := p.drain(); err != nil {
			return err
		}
		if p.inTxn && (p.mustAbort || p.txnRecs >= p.cfg.MaxBatchRecords || time.Since(p.txnStart) >= p.cfg.CommitInterval) {
			if err := p.end(ctx, !p.mustAbort); err != nil && Classify(err) != Retryable {
				if ctx.Err() != nil && !fenced(err) {
					// Stopping: the end or the rollback of an abort was cut short, nothing to keep.
					p.log.Warn("stopping with the open transaction not committed", "error", err)
					return nil
				}
				return err
			}
			continue
		}
		if !p.mustAbort {
			n, err := p.dispatch(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				continue
			}
		}
		fetches := p.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := p.fetchErrors(fetches); err != nil {
			return err
		}
		if err := p.drain(); err != nil {
			return err
		}
		if p.mustAbort {
			continue
		}
		p.buffer(fetches)
		if err := p.listUnknown(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("listing offsets of empty partitions", "error", err)
		}
		if err := p.confirmCaughtUp(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("confirming empty partitions caught up", "error", err)
		}
	}
}

// poll polls up to Config.MaxBatchRecords records, returning by pollDeadline or as soon as a
// callback queues an event (wakeLoop).
func (p *Processor[S]) poll(ctx context.Context) kgo.Fetches {
	var (
		pollCtx context.Context
		cancel  context.CancelFunc
	)
	if deadline := p.pollDeadline(); !deadline.IsZero() {
		pollCtx, cancel = context.WithDeadline(ctx, deadline)
	} else {
		pollCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	p.mu.Lock()
	p.wake = cancel
	if len(p.events) > 0 || p.fatal != nil {
		cancel() // queued since the last drain
	}
	p.mu.Unlock()
	fetches := p.sess.PollRecords(pollCtx, p.cfg.MaxBatchRecords)
	p.mu.Lock()
	p.wake = nil
	p.mu.Unlock()
	return fetches
}

// wakeLoop ends the loop's current poll, if any; p.mu must be held.
func (p *Processor[S]) wakeLoop() {
	if p.wake != nil {
		p.wake()
	}
}

// pollDeadline is when the loop's next poll must return (zero: none): the open transaction's
// end, a listing of empty partitions or the end of a record's wait for a quiet input
// (Config.MaxTaskIdle), whichever comes first; now when a caught-up input is to be confirmed
// (poll what is fetched already, then list: confirmCaughtUp).
func (p *Processor[S]) pollDeadline() time.Time {
	var deadline time.Time
	if p.inTxn {
		deadline = p.txnStart.Add(p.cfg.CommitInterval)
	}
	if p.needList() {
		deadline = earliest(deadline, time.Now().Add(listInterval))
	}
	if w := p.idleWait(); w > 0 {
		deadline = earliest(deadline, time.Now().Add(w))
	}
	if p.needConfirm() {
		deadline = time.Now()
	}
	return deadline
}

// earliest returns the earlier of a and b; a zero a is none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// begin opens a transaction unless one is open.
func (p *Processor[S]) begin() error {
	if p.inTxn {
		return nil
	}
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	p.inTxn, p.txnStart, p.txnRecs = true, time.Now(), 0
	p.prodErr.Store(nil)
	return nil
}

// fetchErrors logs fetch errors; client closure is fatal, the rest kgo retries itself.
func (p *Processor[S]) fetchErrors(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		switch {
		case errors.Is(fe.Err, context.DeadlineExceeded), errors.Is(fe.Err, context.Canceled):
		case errors.Is(fe.Err, kgo.ErrClientClosed):
			return fe.Err
		default:
			p.log.Warn("fetch error", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
		}
	}
	return nil
}

// forward sends rec, which is not on the partition of its key, to that partition of the
// repartition topic in the open transaction (the direct path's order per source partition is
// kept: kgo produces in order per partition).
func (p *Processor[S]) forward(ctx context.Context, rec *kgo.Record) {
	p.txnRecs++
	p.counts.repart[rec.Topic]++
	p.produce(ctx, forwarded(p.cfg.Repartition, rec, route(rec, p.nparts)))
}

// refuse dead-letters rec for herr (poison) outside any Handle call.
func (p *Processor[S]) refuse(ctx context.Context, rec *kgo.Record, herr error) error {
	p.txnRecs++
	p.counts.in[rec.Topic]++
	return p.deadLetter(ctx, rec, herr)
}

// deadLetter produces the dead letter of rec for herr (poison) in the open transaction; it
// is an error when the processor has no dead-letter topic.
func (p *Processor[S]) deadLetter(ctx context.Context, rec *kgo.Record, herr error) error {
	if p.cfg.DLQ == "" {
		return fmt.Errorf("processing %s/%d@%d (no dead-letter topic): %w", rec.Topic, rec.Partition, rec.Offset, herr)
	}
	reason := Label(herr)
	p.produce(ctx, DeadLetter(p.cfg.DLQ, p.cfg.Name, rec, herr, time.Now()))
	p.counts.dead[[2]string{rec.Topic, reason}]++
	p.log.Warn("dead-lettered record", "topic", rec.Topic, "partition", rec.Partition,
		"offset", rec.Offset, "reason", reason, "error", herr)
	return nil
}

func (p *Processor[S]) handle(ctx context.Context, pt *part[S], rec *kgo.Record) error {
	// One Tx serves every record (Handle may not keep it): no allocation per record.
	tx := &p.tx
	tx.p, tx.out, tx.count = pt, tx.out[:0], tx.count[:0]
	defer func() { clear(tx.out) }() // hold no record after it is produced
	p.touched[pt.id] = true
	herr := p.h.Handle(ctx, rec, tx)
	if pt.err != nil {
		// A lazily restored state failed to decode: as fatal as failing at restore.
		p.mustAbort = true
		return fmt.Errorf("processing %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, pt.err)
	}
	p.txnRecs++
	p.counts.in[rec.Topic]++
	switch Classify(herr) {
	case 0:
		for _, r := range tx.out {
			p.produce(ctx, r)
		}
		for _, c := range tx.count {
			p.counts.handler[c]++
		}
	case Poison:
		if err := p.deadLetter(ctx, rec, herr); err != nil {
			return err
		}
	case Retryable:
		p.log.Warn("retryable error; aborting transaction", "topic", rec.Topic, "partition", rec.Partition,
			"offset", rec.Offset, "error", herr)
		p.mustAbort = true
	default:
		p.mustAbort = true
		return fmt.Errorf("processing %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, herr)
	}
	return nil
}

func (p *Processor[S]) produce(ctx context.Context, r *kgo.Record) {
	p.counts.out[r.Topic]++
	p.sess.Produce(ctx, r, p.promise)
}

// produced is the promise of every record the processor produces: it keeps the first error.
func (p *Processor[S]) produced(_ *kgo.Record, err error) {
	if err != nil {
		e := err // only a failure is moved to the heap
		p.prodErr.CompareAndSwap(nil, &e)
	}
}

// sweep lets the Sweeper prune every key of pt at its watermark; keys still raw from a lazy
// restore are decoded first, so the Sweeper sees every key. An IncrementalSweeper sees every
// key at the partition's first sweep, then only the keys changed since the previous one; at
// that first sweep the keys still raw are not decoded but owe it (part.owed: swept when
// decoded).
func (p *Processor[S]) sweep(pt *part[S]) error {
	wm := time.Unix(0, pt.wm).UTC()
	switch {
	case pt.unswept != nil && pt.swept:
		for k := range pt.unswept {
			if e := pt.m.find(k); e != nil && p.sw.Sweep(wm, &e.s) {
				pt.dirty[k] = struct{}{}
			}
		}
	case pt.unswept != nil:
		for k, e := range pt.m.all() {
			if p.sw.Sweep(wm, &e.s) {
				pt.dirty[k] = struct{}{}
			}
		}
		pt.owed = len(pt.raw) > 0
		pt.swept = true
	default:
		if err := pt.decodeAll(); err != nil {
			p.mustAbort = true
			return fmt.Errorf("sweeping partition %d: %w", pt.id, err)
		}
		for k, e := range pt.m.all() {
			if p.sw.Sweep(wm, &e.s) {
				pt.dirty[k] = struct{}{}
			}
		}
		pt.swept = true
	}
	if pt.unswept != nil {
		clear(pt.unswept)
		pt.unsweptKeys = keyArena{}
	}
	pt.lastSweep = pt.wm
	p.touched[pt.id] = true
	return nil
}

// end writes the changelog of the open transaction and ends it, committing when commit is
// true and nothing failed. After an abort the state of the touched partitions is restored
// from the changelog, and the session rewinds to the committed offsets.
func (p *Processor[S]) end(ctx context.Context, commit bool) error {
	var werr error
	if commit && p.cm != nil {
		werr = p.beforeCommit(ctx)
	}
	if commit && werr == nil {
		werr = p.writeChangelog(ctx)
	}
	if perr := p.prodErr.Load(); perr != nil && werr == nil {
		werr = fmt.Errorf("producing: %w", *perr)
	}
	commit = commit && werr == nil
	start := time.Now()
	committed, err := p.sess.End(kgo.PreTxnCommitFnContext(ctx, p.commitHook), kgo.TransactionEndTry(commit))
	age := time.Since(p.txnStart)
	p.inTxn, p.mustAbort, p.txnRecs = false, false, 0
	clear(p.txnHanded)
	if !committed {
		p.putBack()
	}
	p.resetUndo()
	if committed {
		p.m.commit.Observe(time.Since(start).Seconds())
		p.afterCommit(ctx)
		return nil
	}
	if err == nil {
		err = werr
	}
	return p.afterAbort(ctx, err, age)
}

// afterCommit records a committed transaction: counts, clean watermarks and metadata, sizes,
// and the repartition records it made obsolete.
func (p *Processor[S]) afterCommit(ctx context.Context) {
	p.m.txns.WithLabelValues("committed").Inc()
	p.committed++
	p.commitCounts()
	for _, pt := range p.parts {
		pt.wmDirty = false
		clear(pt.metaDirty)
	}
	clear(p.touched)
	p.updateSizeMetrics()
	p.purgeRepartition(ctx)
}

// afterAbort handles a transaction that did not commit because of err (nil: an abort that
// was asked for): a fatal or renewing error is returned as is; otherwise the producer ID is
// reloaded and the touched partitions are rolled back to the changelog.
func (p *Processor[S]) afterAbort(ctx context.Context, err error, age time.Duration) error {
	clear(p.txnRepart)
	p.m.txns.WithLabelValues("aborted").Inc()
	p.counts.reset()
	if err == nil {
		err = errAborted
	}
	err = withFenceHint(timedOut(err, age, p.cfg.TransactionTimeout), p.cfg.TransactionalID)
	if c := Classify(err); c == Fatal || c == Renew {
		// Renew: Run replaces the client and restores every owned partition (renew.go).
		return fmt.Errorf("ending transaction: %w", err)
	}
	// When the end was not confirmed (e.g. TRANSACTION_ABORTABLE), kgo marks the producer ID
	// for reloading and may leave the transaction open on the broker until the next produce.
	// Reload it now (a no-op otherwise): the epoch bump aborts that transaction, which the
	// rollback's restore would otherwise wait for until the transaction timeout.
	if _, _, perr := p.sess.Client().ProducerID(ctx); perr != nil && Classify(perr) == Fatal {
		return fmt.Errorf("reloading producer id after abort: %w", perr)
	}
	p.log.Info("transaction aborted; rolling back state", "reason", err)
	if rerr := p.rollback(ctx); rerr != nil {
		return fmt.Errorf("rolling back after abort: %w", rerr)
	}
	return fmt.Errorf("ending transaction: %w", err)
}

// writeChangelog produces the changed states of the open transaction to the changelog. The
// keys and values are encoded back to back into large shared buffers and the records of a
// partition come from one slice: a few allocations per transaction instead of three per key.
// (The buffers are never reused: the producer holds the records until they are acknowledged.)
func (p *Processor[S]) writeChangelog(ctx context.Context) error {
	var arena []byte
	for _, pt := range p.parts {
		recs := make([]kgo.Record, len(pt.dirty))
		i := 0
		for k := range pt.dirty {
			e := pt.m.find(k)
			rec := &recs[i]
			i++
			arena = reserve(arena, 1+len(k))
			n := len(arena)
			arena = append(append(arena, stateKeyPrefix), k...)
			*rec = kgo.Record{Topic: p.cfg.Changelog, Partition: pt.id, Key: arena[n:len(arena):len(arena)]}
			if e != nil && !p.h.EmptyState(&e.s) {
				arena = reserve(arena, 0)
				n = len(arena)
				var err error
				arena, err = p.h.AppendState(arena, &e.s)
				if err != nil {
					return fmt.Errorf("encoding state of %q: %w", k, err)
				}
				rec.Value = arena[n:len(arena):len(arena)]
				pt.bytes += int64(len(rec.Value)) - int64(e.size)
				e.size = int32(len(rec.Value))
			} else if e != nil {
				pt.bytes -= int64(e.size)
				pt.m.remove(k)
			}
			p.produce(ctx, rec)
			delete(pt.dirty, k)
		}
		for name := range pt.metaDirty {
			p.produce(ctx, &kgo.Record{Topic: p.cfg.Changelog, Partition: pt.id, Key: []byte(metaUserPrefix + name), Value: pt.meta[name]})
		}
		if pt.wmDirty {
			p.touched[pt.id] = true
			p.produce(ctx, &kgo.Record{Topic: p.cfg.Changelog, Partition: pt.id, Key: []byte(metaWatermark), Value: encodeWatermark(pt.wm)})
		}
	}
	return nil
}

// changelogChunk is the size of the buffers writeChangelog encodes into.
const changelogChunk = 256 << 10

// reserve returns buf, or a new empty buffer when buf has less than max(n, 1 KiB) bytes
// left: the bytes already handed out stay where they are.
func reserve(buf []byte, n int) []byte {
	if cap(buf)-len(buf) >= max(n, 1<<10) {
		return buf
	}
	return make([]byte, 0, max(changelogChunk, n))
}

// beforeCommit shows the Committer the metadata the open transaction changed and produces
// the records it adds, each to the partition it names.
func (p *Processor[S]) beforeCommit(ctx context.Context) error {
	c := &Commit{}
	for _, pt := range p.parts {
		for name := range pt.metaDirty {
			c.changed = append(c.changed, MetaChange{Partition: pt.id, Name: name, Value: pt.meta[name]})
		}
	}
	if len(c.changed) == 0 {
		return nil
	}
	sort.Slice(c.changed, func(i, j int) bool {
		a, b := c.changed[i], c.changed[j]
		return a.Partition < b.Partition || (a.Partition == b.Partition && a.Name < b.Name)
	})
	if err := p.cm.BeforeCommit(c); err != nil {
		return fmt.Errorf("before commit: %w", err)
	}
	for _, r := range c.out {
		r.Context = context.WithValue(ctxOrBackground(r.Context), manualPartition{}, true)
		p.counts.added[r.Topic]++
		p.produce(ctx, r)
	}
	return nil
}

func ctxOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func (p *Processor[S]) commitCounts() {
	for t, n := range p.counts.in {
		p.m.in.WithLabelValues(t).Add(n)
	}
	for t, n := range p.counts.out {
		p.m.out.WithLabelValues(t).Add(n)
	}
	for t, n := range p.counts.added {
		p.m.added.WithLabelValues(t).Add(n)
	}
	for t, n := range p.counts.repart {
		p.m.repart.WithLabelValues(t).Add(n)
	}
	for k, n := range p.counts.dead {
		p.m.dead.WithLabelValues(k[0], k[1]).Add(n)
	}
	for c, n := range p.counts.handler {
		c.Add(n)
	}
	p.counts.reset()
}

// rollback re-restores every owned partition touched by the aborted transaction.
func (p *Processor[S]) rollback(ctx context.Context) error {
	var ids []int32
	for id := range p.touched {
		if p.parts[id] != nil {
			ids = append(ids, id)
		}
	}
	clear(p.touched)
	if len(ids) == 0 {
		return nil
	}
	p.restoring.Add(1)
	defer p.restoring.Add(-1)
	parts, err := p.restore(ctx, kadm.NewClient(p.sess.Client()), ids)
	if err != nil {
		return err
	}
	for id, pt := range parts {
		if p.parts[id] != nil {
			p.parts[id] = pt
		}
	}
	p.updateSizeMetrics()
	return nil
}

// purgeInterval is how often committed records of the repartition topic are deleted.
const purgeInterval = 30 * time.Second

// purgeRepartition runs after a commit: it deletes the repartition records below the
// committed offsets (as Kafka Streams purges its repartition topics), at most every
// purgeInterval. Those records are handled and their offsets committed in the group, so
// nothing reads them again; a failure only leaves them for the next purge.
func (p *Processor[S]) purgeRepartition(ctx context.Context) {
	for id, off := range p.txnRepart {
		p.purge[id] = off
	}
	clear(p.txnRepart)
	if len(p.purge) == 0 || time.Since(p.lastPurge) < purgeInterval {
		return
	}
	p.lastPurge = time.Now()
	var os kadm.Offsets
	for id, off := range p.purge {
		os.Add(kadm.Offset{Topic: p.cfg.Repartition, Partition: id, At: off})
	}
	clear(p.purge)
	resp, err := kadm.NewClient(p.sess.Client()).DeleteRecords(ctx, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		p.log.Warn("purging repartition topic", "topic", p.cfg.Repartition, "error", err)
	}
}

// partitioner sends changelog and repartition records to the partition set on the record
// (the input partition, the key's partition) and everything else by murmur2 of the key,
// like Kafka's default partitioner.
type partitioner struct {
	manual []string
	def    kgo.Partitioner
}

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	if t != "" && slices.Contains(p.manual, t) {
		return kgo.ManualPartitioner().ForTopic(t)
	}
	return commitPartitioner{p.def.ForTopic(t)}
}

// manualPartition marks (in Record.Context) a record a Committer produced: it goes to the
// partition set on it.
type manualPartition struct{}

// commitPartitioner sends the records of a Committer to their own partition and the others
// by the wrapped partitioner.
type commitPartitioner struct{ def kgo.TopicPartitioner }

func isManual(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(manualPartition{}) != nil
}

func (c commitPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return isManual(r) || c.def.RequiresConsistency(r)
}

func (c commitPartitioner) Partition(r *kgo.Record, n int) int {
	if isManual(r) {
		return int(r.Partition)
	}
	return c.def.Partition(r, n)
}

func (c commitPartitioner) OnNewBatch() {
	if nb, ok := c.def.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// kgoLogger adapts slog to kgo's logger; kgo's info is our debug.
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	if k.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, kv ...any) {
	lvl := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lvl = slog.LevelError
	case kgo.LogLevelWarn:
		lvl = slog.LevelWarn
	}
	k.l.Log(context.Background(), lvl, "kgo: "+msg, kv...)
}
