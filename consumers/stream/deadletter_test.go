package stream

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

func recordSize(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// TestDeadLetterFits: whatever the record, its dead letter fits the dead-letter topic; a cut
// value carries the original size and SHA-256; the id depends only on the coordinates.
func TestDeadLetterFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cause := schemas.Refused("json:malformed", errors.New(strings.Repeat("\x00", 100_000)))
	tests := []struct {
		name     string
		key, val []byte
		cut      bool
	}{
		{"small", []byte("c1"), []byte("{}"), false},
		{"700 kB value", []byte("c1"), itest.RandomBytes(rng, 700_000), false},
		{"1 MB value", []byte("c1"), itest.RandomBytes(rng, 1_000_000), true},
		{"1 MB value, 100 kB key", itest.RandomBytes(rng, 100_000), itest.RandomBytes(rng, 1_000_000), true},
		{"900 kB key", itest.RandomBytes(rng, 900_000), []byte("x"), false},
		{"tombstone", []byte("c1"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &kgo.Record{Topic: "in", Partition: 3, Offset: 42, Key: tt.key, Value: tt.val}
			dl := DeadLetter("dlq", "ledger", rec, cause, at)
			if n := recordSize(dl); n > DeadLetterMaxBytes {
				t.Fatalf("dead letter of %d bytes, limit %d", n, DeadLetterMaxBytes)
			}
			d, err := schemas.DecodeDeadLetter(dl.Value)
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != DeadLetterID("ledger", "in", 3, 42) || string(dl.Headers[0].Value) != d.ID || len(d.ID) != 32 {
				t.Errorf("id %q, header %q", d.ID, dl.Headers[0].Value)
			}
			if !bytes.HasPrefix(tt.val, d.Value) {
				t.Error("value is not a prefix of the original")
			}
			if tt.cut {
				sum := sha256.Sum256(tt.val)
				if d.OriginalBytes != int64(len(tt.val)) || d.OriginalSHA256 != hex.EncodeToString(sum[:]) || len(d.Value) >= len(tt.val) {
					t.Errorf("cut value: %d bytes of %d, sha %s", len(d.Value), d.OriginalBytes, d.OriginalSHA256)
				}
			} else if !bytes.Equal(d.Value, tt.val) || d.OriginalBytes != 0 {
				t.Errorf("value cut although it fits (%d of %d bytes)", len(d.Value), len(tt.val))
			}
		})
	}
	if DeadLetterID("ledger", "in", 3, 42) == DeadLetterID("sink", "in", 3, 42) ||
		DeadLetterID("ledger", "in", 3, 42) == DeadLetterID("ledger", "in", 34, 2) {
		t.Error("dead-letter ids collide across components or coordinates")
	}
}
