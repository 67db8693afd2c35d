package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// restore reads the changelog partitions ids from the start to their end and returns their
// state; adm lists the changelog's offsets. It first waits until no transaction is open on them (last stable offset = high
// watermark): a previous owner's commit writes its markers to the changelog and to the group's
// offsets independently, so the offsets being stable does not yet mean the changelog is.
func (p *Processor[S]) restore(ctx context.Context, adm *kadm.Client, ids []int32) (map[int32]*part[S], error) {
	start := time.Now()
	ends, err := p.stableEnds(ctx, adm, ids)
	if err != nil {
		return nil, err
	}
	parts := make(map[int32]*part[S], len(ids))
	consume := map[int32]kgo.Offset{}
	for _, id := range ids {
		parts[id] = newPart(id, p.h, p.cfg.LazyRestore)
		if ends[id] > 0 {
			consume[id] = kgo.NewOffset().AtStart()
		}
	}
	if len(consume) > 0 {
		n, err := p.readChangelog(ctx, consume, NewCatchUp(ends), parts)
		if err != nil {
			return nil, err
		}
		p.m.restored.Add(float64(n))
	}
	p.m.restore.Observe(time.Since(start).Seconds())
	for _, pt := range parts {
		pt.lastSweep = 0
	}
	return parts, nil
}

// readChangelog reads the changelog partitions of consume from their start until caught up,
// into parts, and returns the number of records read.
func (p *Processor[S]) readChangelog(ctx context.Context, consume map[int32]kgo.Offset, catch *CatchUp, parts map[int32]*part[S]) (int64, error) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(p.cfg.Brokers...),
		kgo.WithLogger(kgoLogger{p.log}),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{p.cfg.Changelog: consume}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // so the last offset before the end is always seen
	}, p.cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("creating restore client: %w", err)
	}
	defer cl.Close()
	var n int64
	for !catch.Done() {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if fetches.Empty() && catch.Idle() {
			// Nothing more to read below the end offsets: the tail is compacted or markers.
			p.log.Warn("changelog restore idle; assuming the rest is compacted", "partitions", catch.Pending())
			break
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return n, fmt.Errorf("reading changelog %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !catch.Note(r) {
				return
			}
			n++
			if !r.Attrs.IsControl() {
				err = errors.Join(err, parts[r.Partition].apply(r))
			}
		})
		if err != nil {
			return n, fmt.Errorf("restoring changelog %s: %w", p.cfg.Changelog, err)
		}
	}
	return n, nil
}

// stableEnds waits until every partition's last stable offset equals its high watermark and
// returns the high watermarks. A retriable listing error of one of ids (a leader moved or
// lost: NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION until the metadata catches up) is
// retried until Config.RestoreTimeout, as is an open transaction; partitions not in ids are
// not looked at.
func (p *Processor[S]) stableEnds(ctx context.Context, adm *kadm.Client, ids []int32) (map[int32]int64, error) {
	deadline := time.Now().Add(p.cfg.RestoreTimeout)
	for {
		ends, stable, err := p.listEnds(ctx, adm, ids)
		switch {
		case err != nil && Classify(err) != Retryable:
			return nil, err
		case err == nil && stable:
			return ends, nil
		case time.Now().After(deadline) && err != nil:
			return nil, fmt.Errorf("changelog %s partitions %v: still failing after %v: %w", p.cfg.Changelog, ids, p.cfg.RestoreTimeout, err)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("changelog %s partitions %v: a transaction stayed open longer than %v", p.cfg.Changelog, ids, p.cfg.RestoreTimeout)
		}
		wait := 50 * time.Millisecond
		if err != nil {
			p.log.Warn("listing changelog offsets; retrying", "partitions", ids, "error", err)
			wait = 250 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// listEnds lists the high watermarks and last stable offsets of the changelog's partitions
// ids: the high watermarks, and whether every one equals its last stable offset.
func (p *Processor[S]) listEnds(ctx context.Context, adm *kadm.Client, ids []int32) (map[int32]int64, bool, error) {
	hwm, err := adm.ListEndOffsets(ctx, p.cfg.Changelog)
	var lso kadm.ListedOffsets
	if err == nil {
		lso, err = adm.ListCommittedOffsets(ctx, p.cfg.Changelog)
	}
	if err != nil {
		return nil, false, fmt.Errorf("listing changelog offsets: %w", err)
	}
	ends := make(map[int32]int64, len(ids))
	stable := true
	for _, id := range ids {
		h, ok1 := hwm.Lookup(p.cfg.Changelog, id)
		l, ok2 := lso.Lookup(p.cfg.Changelog, id)
		if !ok1 || !ok2 {
			return nil, false, fmt.Errorf("changelog %s has no partition %d (co-partitioning broken)", p.cfg.Changelog, id)
		}
		if err := errors.Join(h.Err, l.Err); err != nil {
			return nil, false, fmt.Errorf("listing changelog offsets of %s/%d: %w", p.cfg.Changelog, id, err)
		}
		stable = stable && h.Offset == l.Offset
		ends[id] = h.Offset
	}
	return ends, stable, nil
}

// apply applies one changelog record to the partition's state: a lazy partition keeps a
// copy of the value (decoded on first access), else it is decoded now.
func (pt *part[S]) apply(r *kgo.Record) error {
	if len(r.Key) == 0 {
		return fmt.Errorf("changelog record at offset %d has no key", r.Offset)
	}
	switch r.Key[0] {
	case metaKeyPrefix:
		if string(r.Key) == metaWatermark {
			pt.wm = decodeWatermark(r.Value)
		} else if name, ok := strings.CutPrefix(string(r.Key), metaUserPrefix); ok {
			pt.meta[name] = append([]byte(nil), r.Value...)
		}
		return nil
	case stateKeyPrefix:
	default:
		return fmt.Errorf("changelog record at offset %d has an unknown key prefix %q", r.Offset, r.Key[0])
	}
	kb := r.Key[1:]
	if old := pt.m.findBytes(kb); old != nil {
		pt.bytes -= int64(old.size)
		pt.m.remove(string(kb))
	}
	if i, ok := pt.raw[string(kb)]; ok {
		pt.bytes -= int64(len(pt.raws[i].b))
		if r.Value == nil {
			delete(pt.raw, string(kb))
			pt.raws[i] = rawState{}
			return nil
		}
		pt.raws[i] = rawState{b: pt.keep(r.Value), off: r.Offset}
		pt.bytes += int64(len(r.Value))
		return nil
	}
	if r.Value == nil {
		return nil
	}
	pt.bytes += int64(len(r.Value))
	if pt.lazy {
		pt.raw[pt.rawKeys.intern(string(kb))] = int32(len(pt.raws))
		pt.raws = append(pt.raws, rawState{b: pt.keep(r.Value), off: r.Offset})
		return nil
	}
	var s S
	if err := pt.h.UnmarshalState(&s, r.Value); err != nil {
		return fmt.Errorf("decoding state of %q at offset %d: %w", kb, r.Offset, err)
	}
	e := pt.m.add(string(kb))
	e.s, e.size = s, int32(len(r.Value))
	return nil
}
