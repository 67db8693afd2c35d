package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

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
	Logger          *slog.Logger
	ClientOpts      []kgo.Opt
}

// Judge dead-letters every record of cfg.Topics that judge refuses (a non-nil error),
// exactly once per record across restarts and instances: it consumes the topics in its own
// group with a transactional session, and the dead letters of a poll commit in one
// transaction with the offsets past its records. It is for components whose main path
// cannot carry the dead letters in a Kafka transaction (the ledger's businesses table, read
// in full by every instance; the sink, whose commit point is ClickHouse); judge must be the
// same function the main path refuses records with, so both refuse alike. Judge returns nil
// when ctx ends, an error when the session fails for good.
func Judge(ctx context.Context, cfg JudgeConfig, judge func(*kgo.Record) error) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(DefaultTransactionTimeout),
	}
	if cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout))
	}
	sess, err := kgo.NewGroupTransactSession(append(opts, cfg.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("creating %s judge: %w", cfg.Consumer, err)
	}
	defer sess.Close()
	for {
		fetches := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, kgo.ErrClientClosed) {
				return nil
			}
			if !errors.Is(fe.Err, context.Canceled) {
				log.Warn("judge fetch error", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
			}
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("beginning %s judge transaction: %w", cfg.Consumer, err)
		}
		committed, err := judgePoll(ctx, sess, cfg, log, fetches, judge)
		switch {
		case ctx.Err() != nil:
			return nil
		case committed:
		case Classify(err) == Fatal:
			return fmt.Errorf("ending %s judge transaction: %w", cfg.Consumer, err)
		default:
			// Aborted (a rebalance or a retryable error): the session rewinds to the
			// committed offsets and the records are judged again.
			log.Warn("judge transaction aborted; retrying", "error", err)
		}
	}
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
