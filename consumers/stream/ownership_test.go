package stream

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestOwnershipCallbacks pins how the group callbacks keep the partitions gauge and readiness
// on one record of ownership: a lost session drops the partitions and makes the member not
// ready; a group-management error the transact session did not pass on as a lost callback
// (it passes one per transaction) makes it not ready too, and the re-assignment of partitions
// still held restored drops them, so that they are restored afresh. Before the fix the gauge
// followed the loop (0 after the loss until a record arrived) and readiness stayed true.
func TestOwnershipCallbacks(t *testing.T) {
	ctx := context.Background()
	in := map[string][]int32{"in": {0, 1}}
	for _, tc := range []struct {
		name string
		// loss is what the member sees of the session's end; nil: nothing.
		loss      func(p *Processor[counter])
		wantDrops [][]int32 // drop events queued, in order
	}{
		{"lost callback", func(p *Processor[counter]) { p.onLost(ctx, nil, in) }, [][]int32{{0, 1}}},
		{"lost unseen (second loss in a transaction)", func(p *Processor[counter]) { p.OnGroupManageError(errors.New("dial: refused")) }, nil},
		{"revoked (cooperative rebalance)", func(p *Processor[counter]) { p.onRevoked(ctx, nil, in) }, [][]int32{{0, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			p, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Name: "own", Group: "g", Inputs: []string{"in"},
				Changelog: "changelog", Registry: reg, Logger: testLog()}, &countHandler{out: "out"})
			if err != nil {
				t.Fatal(err)
			}
			p.running.Store(true)
			gauge := func() float64 { return metricValueOf(t, reg, "taskole_stream_partitions") }
			// Assigned and restored (what onFetched records after the restore).
			p.onAssigned(ctx, nil, in)
			if p.Ready() {
				t.Fatal("ready before the restore")
			}
			p.mu.Lock()
			p.assigned[0], p.assigned[1] = true, true
			p.setOwned()
			p.mu.Unlock()
			p.awaiting.Store(false)
			if !p.Ready() || gauge() != 2 {
				t.Fatalf("restored: ready %v, gauge %v; want true, 2", p.Ready(), gauge())
			}

			tc.loss(p)
			lostGauge := 0.0
			if tc.wantDrops == nil {
				lostGauge = 2 // nothing told the member which partitions went
			}
			wantReady := tc.name == "revoked (cooperative rebalance)" // still a member, owning nothing
			if p.Ready() != wantReady || gauge() != lostGauge {
				t.Fatalf("after the loss: ready %v, gauge %v; want %v, %v", p.Ready(), gauge(), wantReady, lostGauge)
			}

			// The group assigns the same partitions again: none may count as restored.
			p.onAssigned(ctx, nil, in)
			if p.Ready() || gauge() != 0 || len(p.assigned) != 0 {
				t.Fatalf("re-assigned: ready %v, gauge %v, held %v; want false, 0, none", p.Ready(), gauge(), p.assigned)
			}
			var drops [][]int32
			for _, ev := range p.events {
				if len(ev.drop) > 0 {
					d := slices.Clone(ev.drop)
					slices.Sort(d)
					drops = append(drops, d)
				}
			}
			want := tc.wantDrops
			if want == nil {
				want = [][]int32{{0, 1}} // dropped on the re-assignment instead
			}
			if !slices.EqualFunc(drops, want, slices.Equal) {
				t.Fatalf("drop events %v, want %v", drops, want)
			}
		})
	}
}
