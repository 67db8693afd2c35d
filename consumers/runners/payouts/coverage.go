package payouts

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/pipelines/statement"
	"github.com/taskole/revshare/schemas"
)

// CheckCoverage decodes the records of the commissions topic (commissions and the ledger's
// progress markers, as read back from Kafka) and computes how statements cover them
// (statement.CheckCoverage).
func CheckCoverage(commissions []*kgo.Record, statements []schemas.Payout, rules statement.Config) (statement.Coverage, error) {
	var entries []statement.Sourced
	var markers []schemas.LedgerProgress
	for _, r := range commissions {
		if marker(r) {
			m, err := schemas.DecodeLedgerProgress(r.Value)
			if err != nil {
				return statement.Coverage{}, fmt.Errorf("decoding marker %d@%d: %w", r.Partition, r.Offset, err)
			}
			markers = append(markers, m)
			continue
		}
		c, err := schemas.DecodeCommission(r.Value)
		if err != nil {
			continue // dead-lettered by the payouts consumer
		}
		s := statement.Sourced{Commission: c}
		if v, ok := stream.Header(r, schemas.SourceWatermarkHeader); ok && len(v) > 0 {
			if s.Source, err = time.Parse(time.RFC3339Nano, string(v)); err != nil {
				continue // dead-lettered too
			}
		}
		entries = append(entries, s)
	}
	return statement.CheckCoverage(rules, entries, markers, statements)
}

// ReadCoverage reads the commissions and payouts topics back from Kafka (read committed, up
// to their current ends) and checks the coverage (the demo's figure).
func ReadCoverage(ctx context.Context, cfg Config) (statement.Coverage, error) {
	cfg.Topics = cfg.Topics.WithDefaults()
	comm, err := readAll(ctx, cfg, string(cfg.Topics.Commissions))
	if err != nil {
		return statement.Coverage{}, err
	}
	recs, err := readAll(ctx, cfg, string(cfg.Topics.Payouts))
	if err != nil {
		return statement.Coverage{}, err
	}
	var sts []schemas.Payout
	for _, r := range recs {
		p, err := schemas.DecodePayout(r.Value)
		if err != nil {
			return statement.Coverage{}, fmt.Errorf("decoding statement %d@%d: %w", r.Partition, r.Offset, err)
		}
		sts = append(sts, p)
	}
	return CheckCoverage(comm, sts, cfg.Rules)
}

// readAll reads every committed record of topic up to its end offsets at the start.
func readAll(ctx context.Context, cfg Config, topic string) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords()}, cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating reader: %w", err)
	}
	defer cl.Close()
	pending, err := stream.EndOffsets(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	maps.DeleteFunc(pending, func(_ int32, end int64) bool { return end <= 0 })
	var out []*kgo.Record
	for len(pending) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		for _, fe := range fs.Errors() {
			return nil, fmt.Errorf("reading %s: %w", topic, fe.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := pending[r.Partition]; ok && r.Offset >= end-1 {
				delete(pending, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	return out, nil
}
