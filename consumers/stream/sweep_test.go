package stream

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// capSweeper caps every counter at limit (an idempotent sweep that ignores the watermark)
// and records the keys it visits; incremental says whether it declares IncrementalSweeper.
type capSweeper struct {
	countHandler
	limit   int64
	visited map[*counter]int
}

func (c *capSweeper) Sweep(_ time.Time, s *counter) bool {
	c.visited[s]++
	if s.n > c.limit {
		s.n = c.limit
		return true
	}
	return false
}

type incrementalCapSweeper struct{ capSweeper }

func (*incrementalCapSweeper) SweepsIncrementally() {}

// TestIncrementalSweep checks that an IncrementalSweeper sees every key at a partition's
// first sweep and afterwards only the keys handed out by Tx.State since the previous sweep,
// with the same states and changed keys as a sweeper that sees every key each time.
func TestIncrementalSweep(t *testing.T) {
	type step struct {
		touch   map[string]int64 // key → new value via Tx.State
		visits  int              // keys the incremental sweeper visits
		changed []string         // keys marked changed by the sweep
	}
	steps := []step{
		{touch: map[string]int64{"a": 5, "b": 1, "c": 9}, visits: 3, changed: []string{"a", "c"}},
		{touch: map[string]int64{"b": 7}, visits: 1, changed: []string{"b"}},
		{touch: nil, visits: 0},
		{touch: map[string]int64{"a": 2, "d": 4}, visits: 2, changed: []string{"d"}},
		{touch: map[string]int64{"e": 1}, visits: 1},
	}
	full := &capSweeper{limit: 3}
	inc := &incrementalCapSweeper{capSweeper{limit: 3}}
	ptFull, ptInc := newPart[counter](0, full, false), newPart[counter](0, inc, false)
	pFull := &Processor[counter]{sw: full, touched: map[int32]bool{}}
	pInc := &Processor[counter]{sw: inc, touched: map[int32]bool{}}
	for i, st := range steps {
		for _, pt := range []*part[counter]{ptFull, ptInc} {
			tx := &Tx[counter]{p: pt}
			for k, v := range st.touch {
				tx.State(k).n = v
			}
			clear(pt.dirty)
		}
		full.visited, inc.visited = map[*counter]int{}, map[*counter]int{}
		if err := pFull.sweep(ptFull); err != nil {
			t.Fatal(err)
		}
		if err := pInc.sweep(ptInc); err != nil {
			t.Fatal(err)
		}
		if len(inc.visited) != st.visits || len(full.visited) != ptFull.m.len() {
			t.Fatalf("step %d: incremental visited %d keys, full %d; want %d and %d", i, len(inc.visited), len(full.visited), st.visits, ptFull.m.len())
		}
		if len(ptInc.dirty) != len(st.changed) || len(ptFull.dirty) != len(st.changed) {
			t.Fatalf("step %d: changed %v (incremental), %v (full); want %v", i, ptInc.dirty, ptFull.dirty, st.changed)
		}
		for _, k := range st.changed {
			if _, ok := ptInc.dirty[k]; !ok {
				t.Fatalf("step %d: %s not marked changed by the incremental sweep", i, k)
			}
		}
		for k, e := range ptFull.m.all() {
			if ptInc.m.find(k) == nil || ptInc.m.find(k).s != e.s {
				t.Fatalf("step %d: key %s is %v after the incremental sweep, %v after the full one", i, k, ptInc.m.find(k), e.s)
			}
		}
		clear(ptFull.dirty)
		clear(ptInc.dirty)
	}
}

// TestIncrementalSweepOwedByRawKeys: an IncrementalSweeper's first sweep after a lazy restore
// decodes no raw key (it would stall the partition); each raw key gets that sweep when it is
// decoded, so what a handler sees, and what is written back, equals an eager restore's sweep.
func TestIncrementalSweepOwedByRawKeys(t *testing.T) {
	inc := &incrementalCapSweeper{capSweeper{limit: 3, visited: map[*counter]int{}}}
	val := func(n int64) []byte { v, _ := inc.AppendState(nil, &counter{n: n}); return v }
	restored := map[string]int64{"a": 5, "b": 1, "c": 9}
	lazy, eager := newPart[counter](0, inc, true), newPart[counter](0, inc, false)
	for _, pt := range []*part[counter]{lazy, eager} {
		i := int64(0)
		for _, k := range []string{"a", "b", "c"} {
			if err := pt.apply(&kgo.Record{Key: []byte("s" + k), Value: val(restored[k]), Offset: i}); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
	p := &Processor[counter]{sw: inc, touched: map[int32]bool{}}
	if err := p.sweep(lazy); err != nil {
		t.Fatal(err)
	}
	if len(inc.visited) != 0 || len(lazy.raw) != 3 || !lazy.owed {
		t.Fatalf("first sweep after a lazy restore: visited %d keys, %d still raw, owed %v; want 0, 3, true",
			len(inc.visited), len(lazy.raw), lazy.owed)
	}
	if err := p.sweep(eager); err != nil {
		t.Fatal(err)
	}
	clear(eager.dirty) // the eager sweep marked a and c; the lazy partition marks them on decode
	tx := &Tx[counter]{p: lazy}
	if s, ok := tx.Peek("a"); !ok || s.n != 3 {
		t.Fatalf("Peek(a) after the owed sweep = %v, %v; want 3 (capped)", s, ok)
	}
	if s := tx.State("b"); s.n != 1 {
		t.Fatalf("State(b) = %d, want 1", s.n)
	}
	if _, ok := lazy.dirty["a"]; !ok {
		t.Errorf("a, pruned when decoded, is not marked changed (its pruned state would not be written)")
	}
	if len(lazy.raw) != 1 {
		t.Errorf("%d keys still raw, want 1 (c, never touched)", len(lazy.raw))
	}
	if err := lazy.decodeAll(); err != nil {
		t.Fatal(err)
	}
	for k, e := range eager.m.all() {
		if lazy.m.find(k) == nil || lazy.m.find(k).s != e.s {
			t.Errorf("key %s: %v lazily, %v eagerly", k, lazy.m.find(k), e.s)
		}
	}
}
