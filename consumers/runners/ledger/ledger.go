// Package ledger runs the commission ledger (SPEC R1–R6, R8) on Kafka: it binds the pure
// rules of pipelines/commission to the exactly-once stream processor.
//
// Topology. Enrollments and bookings (co-partitioned by client_id) are consumed in one group,
// with the repartition topic (taskole.ledger-repartition.v1) through which the stream
// processor routes records a producer did not write to the murmur2 partition of their
// client_id (InputTopics lists the three);
// each client's commission.State lives in memory per input partition and in the compacted changelog
// (taskole.ledger-state.v1 by default, under the same topic prefix). Owner changes go to the
// compacted referral-owners topic (keyed client_id), ledger entries to the commissions topic
// (keyed owner_business_id), bad records to the dead-letter topic — all in the transaction that
// commits the input offsets. The businesses topic is a table every instance reads in full
// (a separate, non-group consumer) into commission.Rates; input processing starts only after it has
// caught up to its end, and it keeps following afterwards. Which rates a booking is judged
// with does not depend on how fast it follows (rates.go, the rates gate): a booking sees the
// rates announced before its record, and is judged only once the table holds all of them.
//
// Dead letters. A bad enrollment or booking is dead-lettered inside the input transaction, so
// it lands in the dead-letter topic exactly once. A bad businesses record is skipped by the
// rates table (every instance reads the whole topic on every start) and dead-lettered by a
// separate loop that consumes the businesses topic in a group of its own, transactionally
// with its offsets (judgeBusinesses): exactly once per record across restarts and instances.
// Every dead letter carries a dlq_id derived from (component, topic, partition, offset).
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// DefaultChangelog is the changelog topic under the default names.
const DefaultChangelog = topology.LedgerState

// DefaultRepartition is the repartition topic under the default names: enrollments and
// bookings that were not written to the murmur2 partition of their client_id are forwarded
// there and handled from there (stream.Config.Repartition).
const DefaultRepartition = topology.LedgerRepartition

// DefaultCommitInterval is the ledger's default Config.CommitInterval, shorter than the stream
// processor's: booking → commission latency is dominated by it, and over a 100k-client
// backlog 100 ms cost the same CPU as 500 ms within the noise (docs/BENCHMARKS.md, issue #18).
const DefaultCommitInterval = 100 * time.Millisecond

// DefaultMaxTaskIdle is the ledger's default Config.MaxTaskIdle: the latency it adds to live
// records whenever one input of their partition is quiet (the repartition topic always is,
// when every producer partitions by murmur2). It covers a record still in flight from its
// producer; one acknowledged before is never passed at any setting (the confirming listing,
// stream/confirm.go), so a longer wait only buys fewer listings. 250 ms made every live
// commission wait 250 ms; over a 100k-client backlog 10 ms cost no more CPU (17.7 against
// 18.1 s; docs/BENCHMARKS.md, issue #18).
const DefaultMaxTaskIdle = 10 * time.Millisecond

// Config configures a Runner. The zero value of every field but Brokers means its default.
type Config struct {
	Brokers   []string
	Topics    schemas.Topics // zero names: defaults
	Changelog string         // default: Topics' prefix + DefaultChangelog
	// Repartition is the internal co-partitioning topic; default: Topics' prefix +
	// DefaultRepartition.
	Repartition string
	Group       string // default "taskole-ledger"
	Instance    string // unique per running instance; transactional id suffix; default "ledger"
	// Partitions is the partition count of the topics created when missing (0: broker default).
	Partitions int32
	Rules      commission.Config // rates, hold, horizon

	CommitInterval  time.Duration // default DefaultCommitInterval
	MaxBatchRecords int           // default stream.DefaultMaxBatchRecords
	// MaxBufferedRecords bounds the merge buffer per input partition; default
	// stream.DefaultMaxBufferedRecords.
	MaxBufferedRecords int
	// FetchMaxPartitionBytes is what one fetch brings at most per input partition; default
	// stream.DefaultFetchMaxPartitionBytes. With MaxBufferedRecords it trades memory for
	// catch-up speed (docs/BENCHMARKS.md, "ledger memory").
	FetchMaxPartitionBytes int32
	// MaxTaskIdle is how long a live record waits for an empty, caught-up input of its
	// partition (a record of it produced earlier may be a fetch behind); default
	// DefaultMaxTaskIdle, negative: no wait. It never changes a backlog or a replay.
	MaxTaskIdle      time.Duration
	SessionTimeout   time.Duration // group session timeout; default stream.DefaultSessionTimeout
	RebalanceTimeout time.Duration // default stream.DefaultRebalanceTimeout
	// TransactionTimeout: default stream.DefaultTransactionTimeout.
	TransactionTimeout time.Duration
	// LeaveOnClose: leave the group on Close (scaling in) instead of holding the partitions
	// for a restart under the same Instance (stream.Config.LeaveOnClose).
	LeaveOnClose bool
	// RatesWait bounds how long one transaction waits in all for the rates table to reach
	// the businesses topic's end offsets listed after its batches were fetched (rates.go);
	// default DefaultRatesWait, at most half of TransactionTimeout. Past it the batch is
	// judged with what the table holds (logged, counted in
	// taskole_ledger_rates_wait_timeouts_total).
	RatesWait time.Duration

	Logger     *slog.Logger
	Registry   prometheus.Registerer // nil: metrics are not registered
	ClientOpts []kgo.Opt             // appended to every client's options (tests)
}

// ChangelogFor returns the changelog topic that belongs with topics (under topics.Prefix).
func ChangelogFor(topics schemas.Topics) string {
	return topology.New(topics.Prefix).Name(topology.LedgerState)
}

// RepartitionFor returns the repartition topic that belongs with topics (under topics.Prefix).
func RepartitionFor(topics schemas.Topics) string {
	return topology.New(topics.Prefix).Name(topology.LedgerRepartition)
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, errors.New("ledger config: no brokers")
	}
	if c.Partitions < 0 {
		return c, errors.New("ledger config: negative partition count")
	}
	if c.RatesWait < 0 {
		return c, errors.New("ledger config: negative rates wait")
	}
	c.Topics = c.Topics.WithDefaults()
	if c.Changelog == "" {
		c.Changelog = ChangelogFor(c.Topics)
	}
	if c.Repartition == "" {
		c.Repartition = RepartitionFor(c.Topics)
	}
	switch {
	case c.MaxTaskIdle == 0:
		c.MaxTaskIdle = DefaultMaxTaskIdle
	case c.MaxTaskIdle < 0:
		c.MaxTaskIdle = 0
	}
	if c.Group == "" {
		c.Group = topology.GroupLedger
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = DefaultCommitInterval
	}
	if c.Instance == "" {
		c.Instance = "ledger"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Runner is one instance of the ledger consumer.
type Runner struct {
	cfg    Config
	log    *slog.Logger
	rates  *commission.Rates
	eng    *commission.Engine
	proc   *stream.Processor[commission.State]
	h      *handler
	admin  *kgo.Client
	caught atomic.Bool // businesses caught up
	ready  topology.Readiness
	gate   *ratesGate
	// followDelay holds the follower back after each fetch once caught up (tests: a slow
	// follower).
	followDelay time.Duration

	ratesApplied prometheus.Counter
	ratesBad     *prometheus.CounterVec
	rejected     prometheus.Counter
}

// New validates cfg and creates a Runner; Run starts it.
func New(cfg Config) (*Runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, rates: commission.NewRatesWithin(cfg.Rules.Bounds)}
	r.eng, err = commission.New(cfg.Rules, r.rates)
	if err != nil {
		return nil, err
	}
	r.newMetrics()
	t := cfg.Topics
	r.admin, err = kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	r.gate = r.newGate(string(t.Businesses), cfg.RatesWait)
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(r.ratesApplied, r.ratesBad, r.rejected, r.gate.waitSeconds, r.gate.timeouts)
	}
	r.h = &handler{eng: r.eng, bounds: cfg.Rules.Bounds.WithDefaults(), topics: t, rejected: r.rejected, gate: r.gate}
	r.proc, err = stream.New(stream.Config{
		Brokers:         cfg.Brokers,
		Name:            "ledger",
		Group:           cfg.Group,
		TransactionalID: cfg.Group + "-" + cfg.Instance,
		Inputs:          InputTopics(t),
		Repartition:     cfg.Repartition,
		// Enrollments and bookings of a partition are merged in event time (DESIGN
		// "Co-partitioning"): the ledger's entries do not depend on the topics' pace.
		Timestamp:              eventTime,
		MaxBufferedRecords:     cfg.MaxBufferedRecords,
		FetchMaxPartitionBytes: cfg.FetchMaxPartitionBytes,
		MaxTaskIdle:            cfg.MaxTaskIdle,
		Changelog:              cfg.Changelog,
		DLQ:                    string(t.DLQ),
		// Safe here: the ledger's UnmarshalState only fills the state (interning ids), so
		// decoding a client on first touch instead of at restore changes nothing but speed.
		LazyRestore:      true,
		CommitInterval:   cfg.CommitInterval,
		MaxBatchRecords:  cfg.MaxBatchRecords,
		SessionTimeout:   cfg.SessionTimeout,
		RebalanceTimeout: cfg.RebalanceTimeout,
		// Static membership under the transactional id: both stable per instance name.
		TransactionTimeout: cfg.TransactionTimeout,
		LeaveOnClose:       cfg.LeaveOnClose,
		Logger:             r.log,
		Registry:           cfg.Registry,
		// The fetch count tells the rates gate when a batch was fetched after its last look.
		ClientOpts: append(slices.Clip(cfg.ClientOpts), kgo.WithHooks(&r.gate.fetched)),
	}, r.h)
	if err == nil {
		r.ready, err = r.readiness()
	}
	if err != nil {
		r.admin.Close()
		return nil, err
	}
	return r, nil
}

func (r *Runner) newMetrics() {
	r.ratesApplied = prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_ledger_business_events_total",
		Help: "Businesses events applied to the rates table."})
	r.ratesBad = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_ledger_business_errors_total",
		Help: "Businesses events that could not be decoded, by reason (they are dead-lettered and skipped)."}, []string{"reason"})
	r.rejected = prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_ledger_rejected_enrollments_total",
		Help: "Enrollments by a business other than the client's owner when judged (SPEC §3 rejected claims; an owner re-enrolling its own client is not one), counted in committed transactions. The rejected_claims query is the authority: it also reflects later ownership corrections, which this counter cannot undo."})
}

// readiness is what the ledger waits for, as the topology declares it: the topics consumed in
// its group and its changelog (joined, every assigned partition restored) and the businesses
// table (caught up, read in full outside the group).
func (r *Runner) readiness() (topology.Readiness, error) {
	tp := topology.New(r.cfg.Topics.Prefix)
	n := tp.Names()
	checks := map[string]func() bool{string(n.Businesses): r.caught.Load}
	for _, t := range []string{string(n.Enrollments), string(n.Bookings), tp.Name(topology.LedgerRepartition), tp.Name(topology.LedgerState)} {
		checks[t] = r.proc.Ready
	}
	return tp.Runner("ledger").Readiness(checks)
}

// InputTopics returns the ledger's input topics, consumed in its group and co-partitioned by
// client_id, whatever partitioner their producers used (see ConsumedTopics). It is the one
// list of them: the stream processor consumes these, and every
// progress marker names these (with their partition counts) as the set of input partitions
// whose low watermark closes payout periods (schemas.LedgerProgress).
func InputTopics(t schemas.Topics) []string {
	t = t.WithDefaults()
	return []string{string(t.Enrollments), string(t.Bookings)}
}

// ConsumedTopics returns every topic the ledger consumes in its group, partition i of each
// feeding the state of input partition i: its InputTopics and the repartition topic. (The
// businesses topic is read outside the group, in full.)
func ConsumedTopics(t schemas.Topics, repartition string) []string {
	return append(InputTopics(t), repartition)
}

// Topics returns the topics the ledger needs, as it creates them when missing: what the
// topology says it reads, writes and keeps, its changelog named changelog.
func Topics(t schemas.Topics, changelog string, partitions int32) []stream.TopicSpec {
	tp := topology.New(t.Prefix)
	var specs []stream.TopicSpec
	for _, name := range tp.Runner("ledger").Touches() {
		topic, _ := tp.Topic(name)
		if name == tp.Name(topology.LedgerState) {
			topic.Name = changelog
		}
		specs = append(specs, topic.Spec(partitions))
	}
	return specs
}

// copartitioned returns the co-partition groups among the ledger's topics, under the names
// of r's configuration.
func (r *Runner) copartitioned() [][]string {
	tp := topology.New(r.cfg.Topics.Prefix)
	rename := map[string]string{
		tp.Name(topology.LedgerState):       r.cfg.Changelog,
		tp.Name(topology.LedgerRepartition): r.cfg.Repartition,
	}
	groups := tp.CoPartitioned(tp.Runner("ledger").Touches()...)
	for _, g := range groups {
		for i, n := range g {
			if to, ok := rename[n]; ok {
				g[i] = to
			}
		}
	}
	return groups
}

// Ready reports whether the ledger holds every topic it waits for (readiness): the rates table
// caught up and every assigned partition restored.
func (r *Runner) Ready() bool { return r.ready.Ready() }

// Waiting returns the topics the ledger is not ready with yet (for /readyz).
func (r *Runner) Waiting() []string { return r.ready.Waiting() }

// Run creates missing topics, checks co-partitioning, catches up on businesses, then
// processes until ctx is cancelled (nil) or a fatal error.
func (r *Runner) Run(ctx context.Context) error {
	t := r.cfg.Topics
	specs := Topics(t, r.cfg.Changelog, r.cfg.Partitions)
	for i := range specs {
		if specs[i].Name == RepartitionFor(t) {
			specs[i].Name = r.cfg.Repartition
		}
	}
	if err := stream.EnsureTopics(ctx, r.admin, specs, r.copartitioned()...); err != nil {
		return fmt.Errorf("preparing topics: %w", err)
	}
	if err := r.describeInputs(ctx); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	caughtUp := make(chan struct{})
	g.Go(func() error { return r.followBusinesses(gctx, caughtUp) })
	g.Go(func() error { return r.judgeBusinesses(gctx) })
	g.Go(func() error {
		select {
		case <-caughtUp:
		case <-gctx.Done():
			return nil
		}
		r.log.Info("businesses caught up; starting ledger", "business_rates", r.rates.Len())
		if err := r.proc.Run(gctx); err != nil {
			return fmt.Errorf("running ledger processor: %w", err)
		}
		return nil
	})
	err := g.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// describeInputs gives the handler the partition counts of the input topics and of the
// commissions topic, which its progress markers need.
func (r *Runner) describeInputs(ctx context.Context) error {
	names := append(InputTopics(r.cfg.Topics), string(r.cfg.Topics.Commissions))
	td, err := kadm.NewClient(r.admin).ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("describing input topics: %w", err)
	}
	counts := map[string]int32{}
	for _, n := range names {
		d, ok := td[n]
		if ok && d.Err != nil {
			return fmt.Errorf("describing topic %s: %w", n, d.Err)
		}
		if !ok || len(d.Partitions) == 0 {
			return fmt.Errorf("describing topic %s: not found", n)
		}
		counts[n] = int32(len(d.Partitions))
	}
	r.h.inputs = r.h.inputs[:0]
	for _, n := range InputTopics(r.cfg.Topics) {
		r.h.inputs = append(r.h.inputs, schemas.InputTopic{Topic: n, Partitions: counts[n]})
	}
	r.h.commissions = counts[string(r.cfg.Topics.Commissions)]
	return nil
}

// Close releases the clients (leaving the group). It is idempotent.
func (r *Runner) Close() {
	r.proc.Close()
	r.admin.Close()
}

// followBusinesses reads the businesses topic from the start into the rates table, closes
// caughtUp once it has read everything that was committed when it started (stream.CatchUp),
// and keeps following. A bad record is skipped (judgeBusinesses dead-letters it, once).
func (r *Runner) followBusinesses(ctx context.Context, caughtUp chan<- struct{}) error {
	topic := string(r.cfg.Topics.Businesses)
	ends, err := kadm.NewClient(r.admin).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("listing %s end offsets: %w", topic, err)
	}
	last := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { last[o.Partition] = o.Offset })
	catch := stream.NewCatchUp(last)
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	}, r.cfg.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("creating businesses consumer: %w", err)
	}
	defer cl.Close()
	done := false
	check := func() {
		if !done && catch.Done() {
			done = true
			r.caught.Store(true)
			close(caughtUp)
		}
	}
	check()
	for {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if !done {
			pollCtx, cancel = context.WithTimeout(ctx, time.Second)
		}
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				r.log.Warn("businesses fetch error", "partition", fe.Partition, "error", fe.Err)
			}
		}
		if done && !fetches.Empty() && !r.holdBack(ctx) {
			return nil
		}
		if fetches.Empty() && !done && catch.Idle() {
			// The tail below the end offsets holds only markers or was compacted away.
			r.log.Warn("businesses catch-up idle; assuming caught up", "pending", catch.Pending())
			catch.GiveUp()
		}
		fetches.EachRecord(func(rec *kgo.Record) { r.readBusiness(catch, rec) })
		check()
	}
}

// readBusiness notes rec for the catch-up, applies it to the rates table unless it is a
// control record, and tells the rates gate how far the follower got.
func (r *Runner) readBusiness(catch *stream.CatchUp, rec *kgo.Record) {
	catch.Note(rec)
	if !rec.Attrs.IsControl() {
		r.applyBusiness(rec)
	}
	r.gate.read.advance(rec)
}

// applyBusiness applies one businesses record to the rates table; a bad one is counted and
// skipped.
func (r *Runner) applyBusiness(rec *kgo.Record) {
	b, err := r.decodeBusiness(rec)
	if err == nil {
		// Announced when its record was written (rates.go: the rates gate).
		err = r.rates.ApplyAnnounced(b, rec.Timestamp)
	}
	if err != nil {
		r.ratesBad.WithLabelValues(stream.Label(err)).Inc()
		r.log.Debug("skipping bad businesses record", "partition", rec.Partition, "offset", rec.Offset, "error", err)
		return
	}
	r.ratesApplied.Inc()
}
