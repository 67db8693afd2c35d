package itest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadEnd is where ReadCommitted stops reading a partition.
type ReadEnd int

const (
	// HighWatermark reads up to the end offsets (kadm ListEndOffsets): an open transaction is
	// waited for.
	HighWatermark ReadEnd = iota
	// LastStable reads up to the last stable offsets (kadm ListCommittedOffsets): the records
	// of an open transaction are not waited for.
	LastStable
)

// ReadCommitted reads every committed record of topic read_committed from the start up to its
// current end offsets (of kind end), control records left out. The listing runs under ctx,
// the reading under ctx for at most a minute; the test fails when either does not finish.
func ReadCommitted(ctx context.Context, t testing.TB, brokers []string, topic string, end ReadEnd) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	list := kadm.NewClient(cl).ListEndOffsets
	if end == LastStable {
		list = kadm.NewClient(cl).ListCommittedOffsets
	}
	ends, err := list(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			pending[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for len(pending) > 0 {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("reading %s: %v (pending %v)", topic, rctx.Err(), pending)
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
	return out
}
