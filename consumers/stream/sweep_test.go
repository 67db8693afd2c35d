package stream

import (
	"testing"
	"time"
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
		if len(inc.visited) != st.visits || len(full.visited) != len(ptFull.m) {
			t.Fatalf("step %d: incremental visited %d keys, full %d; want %d and %d", i, len(inc.visited), len(full.visited), st.visits, len(ptFull.m))
		}
		if len(ptInc.dirty) != len(st.changed) || len(ptFull.dirty) != len(st.changed) {
			t.Fatalf("step %d: changed %v (incremental), %v (full); want %v", i, ptInc.dirty, ptFull.dirty, st.changed)
		}
		for _, k := range st.changed {
			if _, ok := ptInc.dirty[k]; !ok {
				t.Fatalf("step %d: %s not marked changed by the incremental sweep", i, k)
			}
		}
		for k, e := range ptFull.m {
			if ptInc.m[k] == nil || ptInc.m[k].s != e.s {
				t.Fatalf("step %d: key %s is %v after the incremental sweep, %v after the full one", i, k, ptInc.m[k], e.s)
			}
		}
		clear(ptFull.dirty)
		clear(ptInc.dirty)
	}
}
