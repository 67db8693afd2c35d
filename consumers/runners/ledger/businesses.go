package ledger

import (
	"context"
	"fmt"

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
	group := r.cfg.Group + "-businesses"
	return stream.Judge(ctx, stream.JudgeConfig{
		Brokers:         r.cfg.Brokers,
		Topics:          []string{string(r.cfg.Topics.Businesses)},
		Group:           group,
		TransactionalID: group + "-" + r.cfg.Instance,
		DLQ:             string(r.cfg.Topics.DLQ),
		Consumer:        "ledger",
		SessionTimeout:  r.cfg.SessionTimeout,
		Logger:          r.log,
		Registry:        r.cfg.Registry,
		ClientOpts:      r.cfg.ClientOpts,
	}, func(rec *kgo.Record) error {
		_, err := r.decodeBusiness(rec)
		return err
	})
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
