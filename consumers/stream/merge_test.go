package stream

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// mergeLogs returns n logs of random records: timestamps mostly ascending per log with
// some disorder (late records), ties across logs, a few forward-bound records and a few
// unreadable timestamps.
func mergeLogs(r *rand.Rand, n int) [][]item {
	logs := make([][]item, n)
	for in := range logs {
		ts := int64(0)
		for off := range int64(r.IntN(60)) {
			ts += int64(r.IntN(3)) // ties within and across logs
			k := mergeKey{ts: ts, in: in, part: 0, off: off}
			switch r.IntN(20) {
			case 0:
				k.ts -= 10 // late
			case 1:
				k.ts = minTimestamp
			}
			rec := &kgo.Record{Topic: fmt.Sprint("t", in), Offset: off}
			logs[in] = append(logs[in], item{rec: rec, orig: rec, key: k, fwd: r.IntN(15) == 0})
		}
	}
	return logs
}

// runMerge feeds the logs to a task in random fetch chunks and hands whatever the task
// allows between fetches; a queue becomes caught up when its whole log is fetched (a
// backlog: the last stable offset is the log's end). It returns the handed records.
func runMerge(t *testing.T, r *rand.Rand, logs [][]item) []string {
	t.Helper()
	tk := &task{}
	for in := range logs {
		q := newQueue(fmt.Sprint("t", in), 0, 0)
		q.lso = int64(len(logs[in]))
		tk.qs = append(tk.qs, q)
	}
	fetched := make([]int, len(logs))
	var out []string
	hand := func() {
		for q := tk.nextQueue(0, 0); q != nil; q = tk.nextQueue(0, 0) {
			it := q.pop()
			out = append(out, label(it))
			// Some handed items are put back, as after an aborted transaction.
			if r.IntN(10) == 0 {
				q.unpop(it)
				out = out[:len(out)-1]
				return
			}
		}
	}
	for {
		var open []int
		for in := range logs {
			if fetched[in] < len(logs[in]) {
				open = append(open, in)
			}
		}
		if len(open) == 0 {
			break
		}
		in := open[r.IntN(len(open))]
		n := min(1+r.IntN(8), len(logs[in])-fetched[in])
		for _, it := range logs[in][fetched[in] : fetched[in]+n] {
			tk.qs[in].push(it)
		}
		fetched[in] += n
		tk.qs[in].fetched(int64(fetched[in]), -1)
		if r.IntN(2) == 0 {
			hand()
		}
	}
	for tk.buffered() > 0 {
		before := tk.buffered()
		hand()
		if tk.buffered() == before && tk.nextQueue(0, 0) == nil {
			t.Fatalf("merge stalled with %d records buffered and every log fetched", before)
		}
	}
	return out
}

// referenceMerge is the merge of complete logs: forward-bound records leave at once (when
// they reach their log's head), the others by smallest head key.
func referenceMerge(logs [][]item) []string {
	heads := make([]int, len(logs))
	var out []string
	for {
		best := -1
		for in, l := range logs {
			if heads[in] < len(l) && l[heads[in]].fwd {
				best = in
				break
			}
		}
		if best < 0 {
			for in, l := range logs {
				if heads[in] < len(l) && (best < 0 || l[heads[in]].key.less(logs[best][heads[best]].key)) {
					best = in
				}
			}
		}
		if best < 0 {
			return out
		}
		it := logs[best][heads[best]]
		heads[best]++
		out = append(out, label(it))
	}
}

func label(it item) string {
	if it.fwd {
		return fmt.Sprintf("fwd %s@%d", it.rec.Topic, it.rec.Offset)
	}
	return fmt.Sprintf("%s@%d", it.rec.Topic, it.rec.Offset)
}

// handledAndForwarded splits a handed sequence into the handled records, in order, and the
// forwarded ones: their order only matters per source (each goes on to the repartition
// topic), so they are sorted.
func handledAndForwarded(out []string) (handled, forwarded []string) {
	for _, s := range out {
		if len(s) > 4 && s[:4] == "fwd " {
			forwarded = append(forwarded, s)
		} else {
			handled = append(handled, s)
		}
	}
	slices.Sort(forwarded)
	return handled, forwarded
}

// TestMergeIndependentOfFetchOrder: any interleaving of fetches of the same logs (and any
// put-back of handed records) hands the same order, the merge of the complete logs (forwards
// leave in offset order per log, FIFO; when relative to other logs does not matter).
func TestMergeIndependentOfFetchOrder(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		logs := mergeLogs(r, 1+r.IntN(3))
		want := referenceMerge(logs)
		total := 0
		for _, l := range logs {
			total += len(l)
		}
		if len(want) != total {
			t.Fatalf("seed %d: reference handed %d of %d", seed, len(want), total)
		}
		for run := range uint64(5) {
			got := runMerge(t, rand.New(rand.NewPCG(seed, 100+run)), logs)
			gh, gf := handledAndForwarded(got)
			wh, wf := handledAndForwarded(want)
			if !slices.Equal(gh, wh) || !slices.Equal(gf, wf) {
				t.Fatalf("seed %d run %d: handed order differs from the merge of the complete logs\n got %v\nwant %v", seed, run, got, want)
			}
		}
	}
}

// TestMergeWaitsForEmptyInputs: a task hands nothing while an input is empty and not caught
// up, and hands by merge key once it is.
func TestMergeWaitsForEmptyInputs(t *testing.T) {
	rec := func(topic string, off int64) *kgo.Record { return &kgo.Record{Topic: topic, Offset: off} }
	a, b := newQueue("a", 0, 0), newQueue("b", 0, -1)
	tk := &task{qs: []*queue{a, b}}
	a.push(item{rec: rec("a", 0), key: mergeKey{ts: 5, in: 0}})
	a.fetched(1, 1)
	if q := tk.nextQueue(0, 0); q != nil {
		t.Fatalf("handed from %s while b is of unknown extent", q.topic)
	}
	b.fetched(-1, 3) // b has records (lso 3) but none is fetched yet
	if q := tk.nextQueue(0, 0); q != nil {
		t.Fatalf("handed from %s while b is not fetched", q.topic)
	}
	b.push(item{rec: rec("b", 2), key: mergeKey{ts: 5, in: 1}})
	b.fetched(3, 3)
	if q := tk.nextQueue(0, 0); q != a {
		t.Fatalf("tie on the timestamp: want input a (first input) first")
	}
	a.pop()
	if q := tk.nextQueue(0, 0); q != b {
		t.Fatalf("a is caught up: want b's head")
	}
	b.pop()
	if tk.nextQueue(0, 0) != nil || !a.caughtUp() || !b.caughtUp() {
		t.Fatalf("both inputs caught up and empty: nothing to hand")
	}
	a.fetched(1, 4) // a fetch shows more records on a
	b.push(item{rec: rec("b", 3), key: mergeKey{ts: 9, in: 1}})
	b.fetched(4, 4)
	if q := tk.nextQueue(0, 0); q != nil {
		t.Fatalf("handed from %s while a has unfetched records", q.topic)
	}
	// A forward-bound head leaves at once: it changes no state of the task.
	a.push(item{rec: rec("a", 1), key: mergeKey{ts: 99, in: 0}, fwd: true})
	if q := tk.nextQueue(0, 0); q != a {
		t.Fatalf("forward-bound head not handed at once")
	}
}

// TestMergeKeyOrder: timestamp, then input, then original partition and offset.
func TestMergeKeyOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b mergeKey
		less bool
	}{
		{mergeKey{ts: 1, in: 1}, mergeKey{ts: 2, in: 0}, true},
		{mergeKey{ts: 2, in: 0}, mergeKey{ts: 1, in: 1}, false},
		{mergeKey{ts: 1, in: 0, part: 5}, mergeKey{ts: 1, in: 1, part: 0}, true},
		{mergeKey{ts: 1, in: 1, part: 0, off: 9}, mergeKey{ts: 1, in: 1, part: 1, off: 0}, true},
		{mergeKey{ts: 1, in: 1, part: 1, off: 3}, mergeKey{ts: 1, in: 1, part: 1, off: 4}, true},
		{mergeKey{ts: 1, in: 1, part: 1, off: 4}, mergeKey{ts: 1, in: 1, part: 1, off: 4}, false},
		{mergeKey{ts: minTimestamp, in: 1}, mergeKey{ts: -5, in: 0}, true},
	} {
		if got := tc.a.less(tc.b); got != tc.less {
			t.Errorf("%+v < %+v = %v, want %v", tc.a, tc.b, got, tc.less)
		}
	}
}

// TestMergeTaskIdle: past an empty caught-up input, a head waits MaxTaskIdle after it was
// buffered; with every input buffered it does not wait.
func TestMergeTaskIdle(t *testing.T) {
	a, b := newQueue("a", 0, 0), newQueue("b", 0, 0)
	a.fetched(1, 1)
	b.fetched(0, 0)
	a.push(item{rec: &kgo.Record{Topic: "a"}, key: mergeKey{ts: 5}, at: 100})
	tk := &task{qs: []*queue{a, b}}
	for _, tc := range []struct {
		now  int64
		want *queue
	}{{100, nil}, {149, nil}, {150, a}, {1000, a}} {
		if got := tk.nextQueue(tc.now, 50); got != tc.want {
			t.Errorf("now %d: got %v, want %v", tc.now, got, tc.want)
		}
	}
	b.push(item{rec: &kgo.Record{Topic: "b"}, key: mergeKey{ts: 6, in: 1}, at: 120})
	b.fetched(1, 1)
	if got := tk.nextQueue(120, 50); got != a {
		t.Errorf("every input buffered: got %v, want a without waiting", got)
	}
}

// TestQueueUnpop puts handed items back in reverse order (as after an aborted transaction),
// with and without room before the head, and checks that the queue then hands them, and
// what it still held, in the original order.
func TestQueueUnpop(t *testing.T) {
	cases := []struct {
		name        string
		queued, pop int // items pushed, items popped (and put back)
		pushAfter   int // items pushed after the pops, before the put-back
	}{
		{"part of the queue", 10, 4, 0},
		{"the whole queue (the head is reset)", 10, 10, 0},
		{"the whole queue, then new items", 10, 10, 5},
		{"a large transaction", 20000, 20000, 3},
		{"nothing", 3, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := newQueue("t", 0, 0)
			n := 0
			push := func(k int) {
				for range k {
					q.push(item{rec: &kgo.Record{Topic: "t", Offset: int64(n)}})
					n++
				}
			}
			push(c.queued)
			var handed []item
			for range c.pop {
				handed = append(handed, q.pop())
			}
			push(c.pushAfter)
			for i := len(handed) - 1; i >= 0; i-- {
				q.unpop(handed[i])
			}
			if q.len() != n {
				t.Fatalf("%d items queued after the put-back; want %d", q.len(), n)
			}
			for i := range n {
				if it := q.pop(); it.rec.Offset != int64(i) {
					t.Fatalf("item %d is offset %d", i, it.rec.Offset)
				}
			}
			if q.len() != 0 {
				t.Fatalf("%d items left", q.len())
			}
		})
	}
}
