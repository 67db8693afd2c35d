package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

// judgeBusinesses dead-letters the bad records of the businesses topic exactly once per
// record, across restarts and however many instances run. The rates table is read in full
// by every instance (followBusinesses), so it cannot own the dead letters; this loop does:
// it consumes the businesses topic in its own group (Group + "-businesses") with a
// transactional session, and each dead letter commits in one transaction with the offsets
// past its record (the same exactly-once scheme as the processor, without state). The two
// loops judge with the same bounds and rules (decodeBusiness), so a record the table skips
// is exactly a record dead-lettered here.
func (r *Runner) judgeBusinesses(ctx context.Context) error {
	topic := string(r.cfg.Topics.Businesses)
	group := r.cfg.Group + "-businesses"
	sess, err := kgo.NewGroupTransactSession(append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.DisableAutoCommit(),
		kgo.TransactionalID(group + "-" + r.cfg.Instance),
		kgo.TransactionTimeout(stream.DefaultTransactionTimeout),
	}, append(r.sessionOpts(), r.cfg.ClientOpts...)...)...)
	if err != nil {
		return fmt.Errorf("creating businesses judge: %w", err)
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
				r.log.Warn("businesses judge fetch error", "partition", fe.Partition, "error", fe.Err)
			}
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("beginning businesses transaction: %w", err)
		}
		var prodErr atomic.Pointer[error]
		fetches.EachRecord(func(rec *kgo.Record) {
			if _, err := r.decodeBusiness(rec); err != nil {
				reason := stream.Label(err)
				r.log.Warn("dead-lettered businesses record", "partition", rec.Partition, "offset", rec.Offset,
					"reason", reason, "error", err)
				sess.Produce(ctx, stream.DeadLetter(string(r.cfg.Topics.DLQ), "ledger", rec, err, time.Now()),
					func(_ *kgo.Record, err error) {
						if err != nil {
							prodErr.CompareAndSwap(nil, &err)
						}
					})
			}
		})
		// End flushes, so prodErr is final when it returns.
		committed, err := sess.End(ctx, kgo.TransactionEndTry(true))
		if p := prodErr.Load(); err == nil && p != nil {
			err = *p
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case committed:
		case stream.Classify(err) == stream.Fatal:
			return fmt.Errorf("ending businesses transaction: %w", err)
		default:
			// Aborted (a rebalance or a retryable error): the session rewinds to the
			// committed offsets and the records are judged again.
			r.log.Warn("businesses transaction aborted; retrying", "error", err)
		}
	}
}

// decodeBusiness decodes a businesses record and checks it against the rules the rates table
// applies (the bounds); it is the one judgement of both loops.
func (r *Runner) decodeBusiness(rec *kgo.Record) (schemas.Business, error) {
	b, err := r.cfg.Rules.Bounds.DecodeBusiness(rec.Value)
	if err != nil {
		return b, fmt.Errorf("decoding business: %w", err)
	}
	if err := r.cfg.Rules.Bounds.CheckBusiness(b); err != nil {
		return b, fmt.Errorf("checking business: %w", err)
	}
	return b, nil
}

func (r *Runner) sessionOpts() []kgo.Opt {
	var opts []kgo.Opt
	if r.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(r.cfg.SessionTimeout))
	}
	if r.cfg.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(r.cfg.RebalanceTimeout))
	}
	return opts
}
