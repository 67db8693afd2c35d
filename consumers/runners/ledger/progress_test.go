package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// checkMarkers checks the ledger's progress markers on the commissions topic after it consumed
// produced (the inputs of phases, in order): every marker names the full input set; on every
// commissions partition the progress of each input partition only moves forward, and ends at
// the input partition's end offset and at the largest occurred_at of its accepted records;
// every commission names its source and that source's watermark before it, which is never
// above the source's final watermark.
func checkMarkers(t *testing.T, brokers []string, topics schemas.Topics, partitions int32, produced []*kgo.Record, phases [][]input) {
	t.Helper()
	var ins []input
	for _, ph := range phases {
		ins = append(ins, ph...)
	}
	wantWM := map[string]time.Time{}
	wantNext := map[string]int64{}
	for i, r := range produced {
		if ins[i].topic == "businesses" {
			continue
		}
		k := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		wantNext[k] = max(wantNext[k], r.Offset+1)
		var v struct {
			OccurredAt time.Time `json:"occurred_at"`
		}
		if ins[i].bad == "" && json.Unmarshal(r.Value, &v) == nil && v.OccurredAt.After(wantWM[k]) {
			wantWM[k] = v.OccurredAt
		}
	}
	recs := readRaw(t, brokers, string(topics.Commissions))
	type prog struct {
		next int64
		wm   time.Time
	}
	final := map[int32]map[string]prog{}
	var commissions []*kgo.Record
	for _, r := range recs {
		if !isMarker(r) {
			commissions = append(commissions, r)
			continue
		}
		m, err := schemas.DecodeLedgerProgress(r.Value)
		if err != nil {
			t.Fatalf("marker at %d@%d: %v", r.Partition, r.Offset, err)
		}
		want := []schemas.InputTopic{{Topic: string(topics.Enrollments), Partitions: partitions}, {Topic: string(topics.Bookings), Partitions: partitions}}
		if fmt.Sprint(m.Inputs) != fmt.Sprint(want) {
			t.Fatalf("marker inputs %v, want %v", m.Inputs, want)
		}
		if final[r.Partition] == nil {
			final[r.Partition] = map[string]prog{}
		}
		for _, p := range m.Progress {
			k := fmt.Sprintf("%s/%d", p.Topic, p.Partition)
			if prev := final[r.Partition][k]; p.NextOffset < prev.next || p.Watermark.Before(prev.wm) {
				t.Errorf("commissions partition %d: progress of %s went back from %v to %+v", r.Partition, k, prev, p)
			}
			final[r.Partition][k] = prog{p.NextOffset, p.Watermark}
		}
	}
	if len(final) != int(partitions) {
		t.Fatalf("markers on %d commissions partitions, want %d", len(final), partitions)
	}
	for q, got := range final {
		for k, next := range wantNext {
			if g := got[k]; g.next != next || !g.wm.Equal(wantWM[k]) {
				t.Errorf("commissions partition %d: final progress of %s = %+v, want next %d watermark %s", q, k, g, next, wantWM[k])
			}
		}
	}
	for _, r := range commissions {
		src, ok1 := stream.Header(r, schemas.SourceHeader)
		wm, ok2 := stream.Header(r, schemas.SourceWatermarkHeader)
		if !ok1 || !ok2 {
			t.Fatalf("commission at %d@%d without source headers", r.Partition, r.Offset)
		}
		if _, known := wantNext[string(src)]; !known {
			t.Errorf("commission names source %q", src)
		}
		if len(wm) > 0 {
			at, err := time.Parse(time.RFC3339Nano, string(wm))
			if err != nil || at.After(wantWM[string(src)]) {
				t.Errorf("commission source watermark %q (%v) above %s's final %s", wm, err, src, wantWM[string(src)])
			}
		}
	}
}

// readRaw reads every committed record of topic up to its current end, markers included.
func readRaw(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl := itest.Client(t, brokers, kgo.ConsumeTopics(topic), kgo.KeepControlRecords(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			pending[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(pending) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if end, ok := pending[r.Partition]; ok && r.Offset >= end-1 {
				delete(pending, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	if len(pending) > 0 {
		t.Fatalf("reading %s: partitions %v not read to their end", topic, pending)
	}
	return out
}
