package ceiling

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
)

// PassThrough is the bare franz-go ceiling: consume the ledger's inputs in a group, produce
// each record unchanged to one output topic, commit, in transactions.
type PassThrough struct {
	cfg   Config
	admin *kgo.Client
	sess  *kgo.GroupTransactSession
	out   string
	in    *prometheus.CounterVec
	// pending counts the input records of the open transaction by topic.
	pending map[string]int
	failed  atomic.Pointer[error] // the open transaction's first produce error
	joined  atomic.Bool
}

// NewPassThrough validates cfg and creates the session (it joins the group at once).
func NewPassThrough(cfg Config) (*PassThrough, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &PassThrough{cfg: cfg, out: cfg.TopicPrefix + passThroughOut, pending: map[string]int{},
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_stream_records_in_total",
			Help:        "Input records consumed and passed through in committed transactions.",
			ConstLabels: prometheus.Labels{"consumer": "passthrough"}}, []string{"topic"})}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(p.in)
	}
	p.admin, err = kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	return p, nil
}

// Ready reports whether the session exists (the group is joined on the first poll).
func (p *PassThrough) Ready() bool { return p.joined.Load() }

// Run creates the output topic when missing and passes records through until ctx ends (nil).
func (p *PassThrough) Run(ctx context.Context) error {
	inputs := ledger.InputTopics(p.cfg.topics())
	spec := []stream.TopicSpec{{Name: p.out, Partitions: p.cfg.Partitions}}
	if err := stream.EnsureTopics(ctx, p.admin, spec, append([]string{p.out}, inputs...)); err != nil {
		return fmt.Errorf("preparing topics: %w", err)
	}
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(p.cfg.Brokers...),
		kgo.ConsumerGroup(p.cfg.TopicPrefix+PassThroughGroup+p.cfg.GroupSuffix),
		kgo.ConsumeTopics(inputs...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.TransactionalID(p.cfg.TopicPrefix+PassThroughGroup+p.cfg.GroupSuffix+"-bench"),
		kgo.TransactionTimeout(stream.DefaultTransactionTimeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return fmt.Errorf("creating transact session: %w", err)
	}
	p.sess = sess
	p.joined.Store(true)
	defer sess.Close()
	for ctx.Err() == nil {
		if err := p.transaction(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// transaction runs one transaction: polls and passes records through for CommitInterval or
// MaxBatchRecords records, then commits and counts.
func (p *PassThrough) transaction(ctx context.Context) error {
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	start, n := time.Now(), 0
	clear(p.pending)
	p.failed.Store(nil)
	for n < p.cfg.MaxBatchRecords && time.Since(start) < p.cfg.CommitInterval && ctx.Err() == nil {
		pollCtx, cancel := context.WithDeadline(ctx, start.Add(p.cfg.CommitInterval))
		fetches := p.sess.PollRecords(pollCtx, p.cfg.MaxBatchRecords-n)
		cancel()
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, kgo.ErrClientClosed) {
				return fe.Err
			}
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			n++
			p.pending[rec.Topic]++
			p.sess.Produce(ctx, &kgo.Record{Topic: p.out, Partition: rec.Partition, Key: rec.Key,
				Value: rec.Value, Headers: rec.Headers}, p.produced)
		})
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stream.DefaultTransactionTimeout)
	defer cancel()
	// Every promise has run once the flush returns: then the first produce error is known.
	if err := p.sess.Client().Flush(endCtx); err != nil {
		return fmt.Errorf("flushing transaction: %w", err)
	}
	commit := p.failed.Load() == nil && ctx.Err() == nil
	committed, err := p.sess.End(endCtx, kgo.TransactionEndTry(commit))
	if err != nil {
		return fmt.Errorf("ending transaction: %w", err)
	}
	if committed {
		for t, c := range p.pending {
			p.in.WithLabelValues(t).Add(float64(c))
		}
	}
	return nil
}

// produced keeps the first produce error of the transaction: it then aborts.
func (p *PassThrough) produced(_ *kgo.Record, err error) {
	if err != nil {
		p.failed.CompareAndSwap(nil, &err)
	}
}

// Close releases the admin client (Run closes its session).
func (p *PassThrough) Close() { p.admin.Close() }
