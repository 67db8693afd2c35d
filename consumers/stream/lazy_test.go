package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestPartLazyRestore applies changelog records to a lazy and an eager partition and checks
// that both hold the same keys, sizes and states: overwrites keep the last value, tombstones
// delete, raw keys count their bytes until they are decoded on access or before a sweep.
func TestPartLazyRestore(t *testing.T) {
	h := &countHandler{}
	val := func(n int64) []byte { v, _ := h.AppendState(nil, &counter{n: n}); return v }
	recs := []*kgo.Record{
		{Key: []byte("sa"), Value: val(1)},
		{Key: []byte("sb"), Value: val(300)}, // 2 bytes
		{Key: []byte("sa"), Value: val(2)},
		{Key: []byte(metaWatermark), Value: encodeWatermark(42)},
		{Key: []byte("sc"), Value: val(7)},
		{Key: []byte("sc")}, // tombstone
		{Key: []byte("sd")}, // tombstone of an unknown key
		{Key: []byte("se"), Value: val(5)},
	}
	want := map[string]int64{"a": 2, "b": 300, "e": 5}
	for _, lazy := range []bool{false, true} {
		pt := newPart[counter](0, h, lazy)
		for i, r := range recs {
			r.Offset = int64(i)
			if err := pt.apply(r); err != nil {
				t.Fatalf("lazy=%v: applying %d: %v", lazy, i, err)
			}
		}
		if pt.len() != len(want) || pt.bytes != 4 || pt.wm != 42 {
			t.Fatalf("lazy=%v: %d keys, %d bytes, watermark %d; want %d keys, 4 bytes, watermark 42", lazy, pt.len(), pt.bytes, pt.wm, len(want))
		}
		if lazy && (pt.m.len() != 0 || len(pt.raw) != len(want)) {
			t.Fatalf("lazy restore decoded %d keys, kept %d raw; want 0 and %d", pt.m.len(), len(pt.raw), len(want))
		}
		tx := &Tx[counter]{p: pt}
		if s, ok := tx.Peek("a"); !ok || s.n != 2 {
			t.Fatalf("lazy=%v: Peek(a) = %v, %v; want 2", lazy, s, ok)
		}
		if _, ok := tx.Peek("c"); ok {
			t.Fatalf("lazy=%v: Peek(c) found a deleted key", lazy)
		}
		if s := tx.State("b"); s.n != 300 {
			t.Fatalf("lazy=%v: State(b) = %d; want 300", lazy, s.n)
		}
		if err := pt.decodeAll(); err != nil {
			t.Fatal(err)
		}
		if len(pt.raw) != 0 || pt.m.len() != len(want) || pt.bytes != 4 || pt.err != nil {
			t.Fatalf("lazy=%v: after decodeAll %d raw, %d decoded, %d bytes, err %v", lazy, len(pt.raw), pt.m.len(), pt.bytes, pt.err)
		}
		for k, n := range want {
			if pt.m.find(k).s.n != n {
				t.Errorf("lazy=%v: %s = %d; want %d", lazy, k, pt.m.find(k).s.n, n)
			}
		}
	}
}

// TestPartLazyCorrupt pins that a lazily restored value that does not decode fails every way
// it can be reached: Tx.State and Tx.Peek record the error (the processor stops on it) and
// a sweep's decodeAll returns it, naming key and offset.
func TestPartLazyCorrupt(t *testing.T) {
	pt := newPart[counter](0, &countHandler{}, true)
	if err := pt.apply(&kgo.Record{Key: []byte("sx"), Value: []byte{0x80}, Offset: 9}); err != nil {
		t.Fatalf("lazy apply decoded the value: %v", err)
	}
	tx := &Tx[counter]{p: pt}
	if s, ok := tx.Peek("x"); ok {
		t.Fatalf("Peek of a corrupt state = %v, true", s)
	}
	if pt.err == nil || !strings.Contains(pt.err.Error(), `decoding state of "x" at changelog offset 9`) {
		t.Fatalf("error after Peek = %v", pt.err)
	}
	pt.err = nil
	if s := tx.State("x"); s == nil || s.n != 0 || pt.err == nil || len(pt.dirty) != 0 {
		t.Fatalf("State of a corrupt state = %v, err %v, dirty %v; want a zero scratch state, an error, nothing dirty", s, pt.err, pt.dirty)
	}
	if err := pt.decodeAll(); err == nil || Classify(err) != Fatal {
		t.Fatalf("decodeAll = %v (%v); want a fatal error", err, Classify(err))
	}
}

// TestCorruptStateStopsRun writes a state value that does not decode to the changelog of a
// key and runs a processor over inputs of that key: eager restore fails the restore, lazy
// restore fails on the key's first record; either way Run returns a fatal error naming the
// key and nothing is committed for it.
func TestCorruptStateStopsRun(t *testing.T) {
	for _, eager := range []bool{true, false} {
		name := map[bool]string{true: "eager", false: "lazy"}[eager]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.eager = eager
			f.produce(fxKeys * 2)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			bad := &kgo.Record{Topic: fxChangelog, Partition: f.partitionOf("k0"), Key: []byte("sk0"), Value: []byte{0x80}}
			cl, err := kgo.NewClient(kgo.SeedBrokers(f.c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := cl.ProduceSync(ctx, bad).FirstErr(); err != nil {
				t.Fatal(err)
			}
			in := f.start("a")
			select {
			case <-in.exited:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not stop on a corrupt state")
			}
			if in.err == nil || !strings.Contains(in.err.Error(), `decoding state of "k0"`) || Classify(in.err) != Fatal {
				t.Fatalf("Run = %v (%v); want a fatal error decoding the state of k0", in.err, Classify(in.err))
			}
			for _, r := range f.readCommitted(fxOut) {
				if string(r.Key) == "k0" {
					t.Fatalf("committed output %q for the key with the corrupt state", r.Value)
				}
			}
		})
	}
}
