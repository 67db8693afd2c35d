package ledger

import (
	"bytes"
	"strconv"
	"testing"
)

// TestOutBufKeepsHandedBytes: bytes handed out are never overwritten by later encodings,
// across chunk replacements and encodings longer than a chunk's room.
func TestOutBufKeepsHandedBytes(t *testing.T) {
	var o outBuf
	var handed [][]byte
	var want [][]byte
	for i := range 5000 {
		v := bytes.Repeat([]byte(strconv.Itoa(i)), 1+i%700)
		if i%2 == 0 {
			handed = append(handed, o.bytes(string(v)))
		} else {
			n := o.start()
			o.b = append(o.b, v...)
			handed = append(handed, o.since(n))
		}
		want = append(want, v)
	}
	for i := range handed {
		if !bytes.Equal(handed[i], want[i]) {
			t.Fatalf("bytes handed out %d changed: got %d bytes, want %d", i, len(handed[i]), len(want[i]))
		}
		if cap(handed[i]) != len(handed[i]) {
			t.Fatalf("bytes handed out %d have room to grow into the chunk (cap %d, len %d)", i, cap(handed[i]), len(handed[i]))
		}
	}
}
