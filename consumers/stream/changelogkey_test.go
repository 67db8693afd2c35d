package stream

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestChangelogKeyRestores pins that a record keyed by ChangelogKey is restored as that key's
// state (lazily and eagerly), that StateKey inverts it, and that metadata keys are not states.
func TestChangelogKeyRestores(t *testing.T) {
	h := &countHandler{}
	v, _ := h.AppendState(nil, &counter{n: 9})
	for _, lazy := range []bool{false, true} {
		pt := newPart[counter](0, h, lazy)
		if err := pt.apply(&kgo.Record{Key: ChangelogKey("client-1"), Value: v}); err != nil {
			t.Fatal(err)
		}
		tx := &Tx[counter]{p: pt}
		if s, ok := tx.Peek("client-1"); !ok || s.n != 9 || pt.len() != 1 {
			t.Fatalf("lazy=%v: Peek(client-1) = %v, %v with %d keys; want 9, true, 1 key", lazy, s, ok, pt.len())
		}
	}
	if k, ok := StateKey(ChangelogKey("client-1")); !ok || k != "client-1" {
		t.Fatalf("StateKey(ChangelogKey(client-1)) = %q, %v", k, ok)
	}
	for _, k := range [][]byte{[]byte(metaWatermark), []byte(metaUserPrefix + "progress/x"), nil} {
		if _, ok := StateKey(k); ok {
			t.Errorf("StateKey(%q) reports a state key", k)
		}
	}
}
