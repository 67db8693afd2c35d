package stream

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMergeConfirmsCaughtUp: with confirmation on, a head passes an empty caught-up queue only
// once a listing issued after the head was buffered confirmed the queue; a listing that shows
// records beyond the queue's position makes the task wait for the fetch.
func TestMergeConfirmsCaughtUp(t *testing.T) {
	a, b := newQueue("a", 0, 0), newQueue("b", 0, 0)
	a.fetched(0, 0) // a: empty, caught up by an old fetch response
	b.push(item{rec: &kgo.Record{Topic: "b"}, key: mergeKey{ts: 9, in: 1}, at: 100})
	b.fetched(1, 1)
	tk := &task{qs: []*queue{a, b}, confirm: true}

	if q := tk.nextQueue(1000, 50); q != nil {
		t.Fatalf("handed from %s with a confirmed by no listing", q.topic)
	}
	if got := tk.unconfirmed(b); len(got) != 1 || got[0] != a {
		t.Fatalf("unconfirmed = %v, want [a]", got)
	}
	a.fetched(0, 0)
	a.listed = 99 // a listing issued before the head was buffered does not count
	if q := tk.nextQueue(1000, 50); q != nil {
		t.Fatalf("handed from %s on a listing older than the head", q.topic)
	}
	a.listed = 100
	if q := tk.choose(1000, 50, true); q != b {
		t.Fatalf("a confirmed caught up: got %v, want b", q)
	}
	if q := tk.nextQueue(120, 50); q != nil {
		t.Fatalf("confirmed, but the head has not waited MaxTaskIdle: got %s", q.topic)
	}
	// The listing shows a record appended to a: not caught up, wait for the fetch.
	a.fetched(0, 1)
	if q := tk.nextQueue(1000, 50); q != nil {
		t.Fatalf("handed from %s while a has an unfetched record", q.topic)
	}
	a.push(item{rec: &kgo.Record{Topic: "a"}, key: mergeKey{ts: 5, in: 0}, at: 200})
	a.fetched(1, 1)
	if q := tk.nextQueue(1000, 50); q != a {
		t.Fatalf("both inputs buffered: got %v, want a (the earlier record)", q)
	}
	// Without confirmation (the merge alone), the old caught-up knowledge suffices.
	c, d := newQueue("c", 0, 0), newQueue("d", 0, 0)
	c.fetched(0, 0)
	d.push(item{rec: &kgo.Record{Topic: "d"}, key: mergeKey{ts: 9, in: 1}, at: 100})
	d.fetched(1, 1)
	if q := (&task{qs: []*queue{c, d}}).nextQueue(1000, 50); q != d {
		t.Fatalf("confirmation off: got %v, want d", q)
	}
}
