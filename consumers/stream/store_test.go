package stream

import (
	"strconv"
	"testing"
	"unsafe"
)

// TestStoreAddRemoveCompact drives a store through adds, removes (enough for the key arena to
// compact more than once) and re-adds, against a plain map: every live key finds its own
// value, a removed key none, a reused slot starts at zero, and an entry's address survives
// the other keys' churn and the compactions.
func TestStoreAddRemoveCompact(t *testing.T) {
	st := newStore[counter]()
	want := map[string]int64{}
	key := func(i int) string { return "client-" + strconv.Itoa(i) + "-with-a-longer-id-to-fill-the-arena" }
	pinned := st.add("pinned")
	pinned.s.n = -1
	compactions := 0
	for round := range 4 {
		for i := range 20_000 {
			k := key(round*20_000 + i)
			e := st.add(k)
			if e.s.n != 0 || e.size != 0 {
				t.Fatalf("round %d: slot for %s not zero: %+v", round, k, *e)
			}
			e.s.n = int64(round*20_000 + i)
			e.size = int32(i)
			want[k] = e.s.n
		}
		// remove all but every tenth key of this round
		for i := range 20_000 {
			if i%10 == 0 {
				continue
			}
			k := key(round*20_000 + i)
			before := st.keys.dead
			st.remove(k)
			if st.keys.dead < before {
				compactions++
			}
			delete(want, k)
		}
		st.remove("never added") // a no-op
	}
	if compactions == 0 {
		t.Fatalf("the key arena never compacted (dead %d, live %d bytes)", st.keys.dead, st.keys.live)
	}
	if st.len() != len(want)+1 {
		t.Fatalf("len %d, want %d", st.len(), len(want)+1)
	}
	if e := st.find("pinned"); e != pinned || e.s.n != -1 {
		t.Fatalf("pinned entry moved or changed: %p %+v, was %p", e, e, pinned)
	}
	for k, n := range want {
		if e := st.find(k); e == nil || e.s.n != n {
			t.Fatalf("%s = %+v, want %d", k, e, n)
		}
		if e := st.findBytes([]byte(k)); e == nil || e.s.n != n {
			t.Fatalf("findBytes(%s) = %+v, want %d", k, e, n)
		}
	}
	if e := st.find(key(1)); e != nil {
		t.Fatalf("removed key found: %+v", e)
	}
	seen := 0
	for k, e := range st.all() {
		if k != "pinned" && want[k] != e.s.n {
			t.Fatalf("all: %s = %d, want %d", k, e.s.n, want[k])
		}
		seen++
	}
	if seen != st.len() {
		t.Fatalf("all yielded %d keys, want %d", seen, st.len())
	}
	if got := int(st.next); got > 2*len(want)+slabSize+20_000 {
		t.Fatalf("%d slots handed out for at most %d live keys: removed slots are not reused", got, len(want)+20_000)
	}
}

// TestUnsweptKeysAreCopies checks that the set of keys awaiting an incremental sweep holds
// copies: a key that aliases a decoded record's buffer (as schemas' decoders hand them out)
// neither keeps that buffer alive nor changes with it.
func TestUnsweptKeysAreCopies(t *testing.T) {
	pt := newPart[counter](0, &incrementalCapSweeper{capSweeper{limit: 3}}, false)
	tx := &Tx[counter]{p: pt}
	buf := []byte("client-1")
	tx.State(unsafe.String(&buf[0], len(buf))).n = 1
	tx.State(unsafe.String(&buf[0], len(buf))).n = 2 // again: still one key
	copy(buf, "client-2")
	if _, ok := pt.unswept["client-1"]; !ok || len(pt.unswept) != 1 {
		t.Fatalf("unswept = %v after the buffer changed; want only client-1", pt.unswept)
	}
	if e := pt.m.find("client-1"); e == nil || e.s.n != 2 {
		t.Fatalf("client-1 = %+v, want n=2", e)
	}
}
