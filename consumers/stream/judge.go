package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// JudgeConfig configures Judge.
type JudgeConfig struct {
	Brokers         []string
	Topics          []string // the topics whose records are judged
	Group           string   // a group of the judge's own
	TransactionalID string   // unique per instance
	DLQ             string   // the dead-letter topic
	Consumer        string   // the component named in the dead letters (and their ids)
	SessionTimeout  time.Duration
	// TransactionTimeout of the judge's transactions; default DefaultTransactionTimeout.
	TransactionTimeout time.Duration
	Logger             *slog.Logger
	// Registry gets taskole_stream_producer_renewals_total{consumer="<Consumer>-judge"}; nil:
	// not registered.
	Registry   prometheus.Registerer
	ClientOpts []kgo.Opt
}

// Judge dead-letters every record of cfg.Topics that judge refuses (a non-nil error),
// exactly once per record across restarts and instances: it consumes the topics in its own
// group with a transactional session, and the dead letters of a poll commit in one
// transaction with the offsets past its records. It is for components whose main path
// cannot carry the dead letters in a Kafka transaction (the ledger's businesses table, read
// in full by every instance; the sink, whose commit point is ClickHouse); judge must be the
// same function the main path refuses records with, so both refuse alike. A transaction that
// outlives its timeout (the broker aborts it and bumps the epoch, timeout.go) replaces the
// session: its records are judged again from the committed offsets. Judge returns nil when
// ctx ends, an error when the session fails for good.
func Judge(ctx context.Context, cfg JudgeConfig, judge func(*kgo.Record) error) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TransactionTimeout == 0 {
		cfg.TransactionTimeout = DefaultTransactionTimeout
	}
	renewals := judgeRenewals(cfg)
	for n := 0; ; {
		committed, err := judgeSession(ctx, cfg, judge)
		if committed {
			n = 0
		}
		if Classify(err) != Renew {
			return err
		}
		if n++; n > maxRenewals {
			return fmt.Errorf("giving up after %d %s judge renewals in a row without a commit: %w", maxRenewals, cfg.Consumer, err)
		}
		renewals.Inc()
		cfg.Logger.Warn("judge transaction outlived the transaction timeout and was aborted by the broker; replacing the session",
			"transactional_id", cfg.TransactionalID, "transaction_timeout", cfg.TransactionTimeout, "error", err)
	}
}

// judgeRenewals returns the judge's renewal counter, registered in cfg.Registry if set (an
// already registered one is shared).
func judgeRenewals(cfg JudgeConfig) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_stream_producer_renewals_total",
		Help:        "Transactional clients replaced because a transaction outlived the transaction timeout and the broker aborted it.",
		ConstLabels: prometheus.Labels{"consumer": cfg.Consumer + "-judge"}})
	if cfg.Registry == nil {
		return c
	}
	if err := cfg.Registry.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if ex, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return ex
			}
		}
		cfg.Logger.Warn("registering judge metrics", "error", err)
	}
	return c
}

// A judge transaction covers one poll. Its size is bounded in bytes (the keys and values of
// its records, and so its dead letters, each at most a few KiB larger than its record): a
// whole fetch of a backlog with many refusals could otherwise take a starved machine past the
// transaction timeout. Within that bound it is as large as judgeMaxRecords, because each
// transaction costs the broker round trips (AddOffsetsToTxn, TxnOffsetCommit, EndTxn) and an
// aborted one is fetched and judged again: at 500 records a transaction, the sink's judge
// was the slowest part of the sink (docs/BENCHMARKS.md, 2026-12-07 19:00).
const (
	judgeBytes       = 8 << 20 // bytes of keys and values judged per transaction, about
	judgeMaxRecords  = 10_000  // records per transaction at the most
	judgeFirstRecord = 500     // records of the first poll, before any size is known
)

// nextJudgeBatch is how many records the next poll takes, given the records of the last one:
// as many as fit judgeBytes at their average size, from 1 to judgeMaxRecords.
func nextJudgeBatch(records, bytes int) int {
	if records == 0 {
		return judgeFirstRecord
	}
	per := max(bytes/records, 1)
	return min(max(judgeBytes/per, 1), judgeMaxRecords)
}

// recordBytes is the size of the keys and values of fetches' records.
func recordBytes(fetches kgo.Fetches) int {
	n := 0
	fetches.EachRecord(func(r *kgo.Record) { n += len(r.Key) + len(r.Value) })
	return n
}

// judgeSession runs one transact session until ctx ends (nil) or it fails; committed reports
// whether any of its transactions committed.
func judgeSession(ctx context.Context, cfg JudgeConfig, judge func(*kgo.Record) error) (committed bool, err error) {
	log := cfg.Logger
	sess, err := newJudgeSession(cfg)
	if err != nil {
		return false, err
	}
	defer sess.Close()
	batch := judgeFirstRecord
	for {
		fetches := sess.PollRecords(ctx, batch)
		if ctx.Err() != nil {
			return committed, nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, kgo.ErrClientClosed) {
				return committed, nil
			}
			if !errors.Is(fe.Err, context.Canceled) {
				log.Warn("judge fetch error", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
			}
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		batch = nextJudgeBatch(fetches.NumRecords(), recordBytes(fetches))
		if err := sess.Begin(); err != nil {
			return committed, fmt.Errorf("beginning %s judge transaction: %w", cfg.Consumer, err)
		}
		began := time.Now()
		ok, err := judgePoll(ctx, sess, cfg, log, fetches, judge)
		err = withFenceHint(timedOut(err, time.Since(began), cfg.TransactionTimeout), cfg.TransactionalID)
		switch {
		case ctx.Err() != nil:
			return committed, nil
		case ok:
			committed = true
		case Classify(err) == Fatal, Classify(err) == Renew:
			return committed, fmt.Errorf("ending %s judge transaction: %w", cfg.Consumer, err)
		case err == nil:
			// kgo aborted without an error: a rebalance, or (the usual case) a poll that refused
			// nothing made an offsets-only transaction, which the broker may refuse right after
			// the previous commit (DESIGN.md "Offsets-only transactions"). The records are
			// judged again.
			log.Info("judge transaction aborted without an error (offsets only, or a rebalance); judging its records again")
		default:
			// Aborted (a rebalance or a retryable error): the session rewinds to the
			// committed offsets and the records are judged again.
			log.Warn("judge transaction aborted; retrying", "error", err)
		}
	}
}

// newJudgeSession opens the judge's transactional group session: read-committed from the
// start of its topics, offsets committed only inside its transactions.
func newJudgeSession(cfg JudgeConfig) (*kgo.GroupTransactSession, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
	}
	if cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout))
	}
	sess, err := kgo.NewGroupTransactSession(append(opts, cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating %s judge: %w", cfg.Consumer, err)
	}
	return sess, nil
}

// judgePoll dead-letters what judge refuses of one poll's records in the open transaction,
// ends it with their offsets and reports whether it committed.
func judgePoll(ctx context.Context, sess *kgo.GroupTransactSession, cfg JudgeConfig, log *slog.Logger,
	fetches kgo.Fetches, judge func(*kgo.Record) error) (bool, error) {
	var prodErr atomic.Pointer[error]
	fetches.EachRecord(func(rec *kgo.Record) {
		if err := judge(rec); err != nil {
			log.Warn("dead-lettered record", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset,
				"reason", Label(err), "error", err)
			sess.Produce(ctx, DeadLetter(cfg.DLQ, cfg.Consumer, rec, err, time.Now()), func(_ *kgo.Record, err error) {
				if err != nil {
					prodErr.CompareAndSwap(nil, &err)
				}
			})
		}
	})
	committed, err := sess.End(ctx, kgo.TransactionEndTry(true)) // flushes first
	if p := prodErr.Load(); err == nil && p != nil {
		err = *p
	}
	return committed, err
}
