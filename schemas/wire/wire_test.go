package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func uv(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader) any
		want any
		err  bool // ErrCorrupt recorded
		left int  // bytes left after the read (0 after a failure)
	}{
		{"byte", []byte{7, 9}, func(r *Reader) any { return r.Byte() }, byte(7), false, 1},
		{"byte/empty", nil, func(r *Reader) any { return r.Byte() }, byte(0), true, 0},

		{"flag/0", []byte{0}, func(r *Reader) any { return r.Flag() }, false, false, 0},
		{"flag/1", []byte{1, 5}, func(r *Reader) any { return r.Flag() }, true, false, 1},
		{"flag/2", []byte{2, 5}, func(r *Reader) any { return r.Flag() }, false, true, 0},
		{"flag/empty", nil, func(r *Reader) any { return r.Flag() }, false, true, 0},

		{"bytes", []byte{1, 2, 3}, func(r *Reader) any { return r.Bytes(2) }, []byte{1, 2}, false, 1},
		{"bytes/zero", []byte{1}, func(r *Reader) any { return r.Bytes(0) }, []byte{}, false, 1},
		{"bytes/all", []byte{1, 2}, func(r *Reader) any { return r.Bytes(2) }, []byte{1, 2}, false, 0},
		{"bytes/truncated", []byte{1, 2}, func(r *Reader) any { return r.Bytes(3) }, []byte(nil), true, 0},
		{"bytes/negative", []byte{1, 2}, func(r *Reader) any { return r.Bytes(-1) }, []byte(nil), true, 0},
		{"bytes/huge", []byte{1, 2}, func(r *Reader) any { return r.Bytes(math.MaxInt) }, []byte(nil), true, 0},

		{"uint64", cat(AppendUint64(nil, 0x0102030405060708), []byte{9}), func(r *Reader) any { return r.Uint64() }, uint64(0x0102030405060708), false, 1},
		{"uint64/max", AppendUint64(nil, math.MaxUint64), func(r *Reader) any { return r.Uint64() }, uint64(math.MaxUint64), false, 0},
		{"uint64/truncated", make([]byte, 7), func(r *Reader) any { return r.Uint64() }, uint64(0), true, 0},

		{"varint", binary.AppendVarint(nil, -300), func(r *Reader) any { return r.Varint() }, int64(-300), false, 0},
		{"varint/min", binary.AppendVarint(nil, math.MinInt64), func(r *Reader) any { return r.Varint() }, int64(math.MinInt64), false, 0},
		{"varint/max", binary.AppendVarint([]byte{}, math.MaxInt64), func(r *Reader) any { return r.Varint() }, int64(math.MaxInt64), false, 0},
		{"varint/empty", nil, func(r *Reader) any { return r.Varint() }, int64(0), true, 0},
		{"varint/truncated", []byte{0x80, 0x80}, func(r *Reader) any { return r.Varint() }, int64(0), true, 0},
		{"varint/overflow", bytes.Repeat([]byte{0xff}, 11), func(r *Reader) any { return r.Varint() }, int64(0), true, 0},

		{"uvarint", cat(uv(300), []byte{1}), func(r *Reader) any { return r.Uvarint() }, uint64(300), false, 1},
		{"uvarint/max", uv(math.MaxUint64), func(r *Reader) any { return r.Uvarint() }, uint64(math.MaxUint64), false, 0},
		{"uvarint/empty", nil, func(r *Reader) any { return r.Uvarint() }, uint64(0), true, 0},
		{"uvarint/truncated", []byte{0xff}, func(r *Reader) any { return r.Uvarint() }, uint64(0), true, 0},
		{"uvarint/overflow", append(bytes.Repeat([]byte{0xff}, 10), 1), func(r *Reader) any { return r.Uvarint() }, uint64(0), true, 0},

		{"count", cat(uv(2), make([]byte, 8)), func(r *Reader) any { return r.Count(4) }, 2, false, 8},
		{"count/exact fit", cat(uv(3), make([]byte, 3)), func(r *Reader) any { return r.Count(1) }, 3, false, 3},
		{"count/zero", uv(0), func(r *Reader) any { return r.Count(8) }, 0, false, 0},
		{"count/min below 1", cat(uv(2), make([]byte, 2)), func(r *Reader) any { return r.Count(0) }, 2, false, 2},
		{"count/too many", cat(uv(3), make([]byte, 8)), func(r *Reader) any { return r.Count(4) }, 0, true, 0},
		{"count/huge", cat(uv(math.MaxUint64), make([]byte, 8)), func(r *Reader) any { return r.Count(1) }, 0, true, 0},
		{"count/truncated", []byte{0x80}, func(r *Reader) any { return r.Count(1) }, 0, true, 0},

		{"raw", cat(uv(2), []byte("abc")), func(r *Reader) any { return r.Raw() }, []byte("ab"), false, 1},
		{"raw/empty", uv(0), func(r *Reader) any { return r.Raw() }, []byte{}, false, 0},
		{"raw/truncated", cat(uv(4), []byte("abc")), func(r *Reader) any { return r.Raw() }, []byte(nil), true, 0},
		{"raw/huge length", cat(uv(math.MaxUint64), []byte("abc")), func(r *Reader) any { return r.Raw() }, []byte(nil), true, 0},
		{"raw/negative as int", cat(uv(1<<63), []byte("abc")), func(r *Reader) any { return r.Raw() }, []byte(nil), true, 0},

		{"string", AppendString(nil, "héllo"), func(r *Reader) any { return r.Text() }, "héllo", false, 0},
		{"string/empty", AppendString(nil, ""), func(r *Reader) any { return r.Text() }, "", false, 0},
		{"string/truncated", AppendString(nil, "hello")[:4], func(r *Reader) any { return r.Text() }, "", true, 0},
		{"string/no length", nil, func(r *Reader) any { return r.Text() }, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.in)
			got := tt.read(&r)
			if !equal(got, tt.want) {
				t.Errorf("read = %#v, want %#v", got, tt.want)
			}
			if err := r.Err(); (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrCorrupt)) {
				t.Errorf("Err() = %v, want failure %v", err, tt.err)
			}
			if r.Len() != tt.left {
				t.Errorf("Len() = %d, want %d", r.Len(), tt.left)
			}
		})
	}
}

func equal(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && (x == nil) == (y == nil)
	}
	return a == b
}

// TestReaderSticky checks that after a failure every read returns the zero value and the
// first error stays, even when the input would otherwise have held the value.
func TestReaderSticky(t *testing.T) {
	in := cat([]byte{1, 2}, AppendString(nil, "abc"), AppendUint64(nil, 42))
	r := NewReader(in)
	if r.Flag() != true {
		t.Fatal("first flag")
	}
	if r.Flag() {
		t.Fatal("flag 2 read as true")
	}
	if r.Err() == nil {
		t.Fatal("flag 2 accepted")
	}
	first := r.Err()
	if v := r.Text(); v != "" {
		t.Errorf("String after failure = %q", v)
	}
	if v := r.Uint64(); v != 0 {
		t.Errorf("Uint64 after failure = %d", v)
	}
	if v := r.Bytes(0); len(v) != 0 {
		t.Errorf("Bytes(0) after failure = %x", v)
	}
	if r.Byte() != 0 || r.Varint() != 0 || r.Uvarint() != 0 || r.Count(1) != 0 || r.Raw() != nil {
		t.Error("read after failure returned data")
	}
	r.Fail()
	if !errors.Is(r.Err(), first) || !errors.Is(r.Complete(), first) || r.Len() != 0 {
		t.Errorf("error changed: %v, %v; Len %d", r.Err(), r.Complete(), r.Len())
	}
}

func TestComplete(t *testing.T) {
	r := NewReader([]byte{1, 2})
	r.Byte()
	if err := r.Complete(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Complete with a byte left = %v, want ErrCorrupt", err)
	}
	r = NewReader([]byte{1})
	r.Byte()
	if err := r.Complete(); err != nil {
		t.Errorf("Complete at the end = %v", err)
	}
	var zero Reader
	if zero.Len() != 0 || zero.Complete() != nil {
		t.Error("zero Reader is not an empty input")
	}
	if zero.Byte(); zero.Err() == nil {
		t.Error("zero Reader read a byte")
	}
}

// TestRoundTrip reads back what the append helpers wrote, in sequence.
func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendString(b, "owner")
	b = AppendFlag(b, true)
	b = AppendFlag(b, false)
	b = binary.AppendVarint(b, -7)
	b = binary.AppendUvarint(b, 2)
	b = AppendUint64(b, 1)
	b = AppendUint64(b, math.MaxUint64)
	b = AppendString(b, "")
	want := []byte{5, 'o', 'w', 'n', 'e', 'r', 1, 0, 13, 2, 1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", b, want)
	}
	r := NewReader(b)
	if s := r.Text(); s != "owner" {
		t.Errorf("String = %q", s)
	}
	if !r.Flag() || r.Flag() {
		t.Error("flags")
	}
	if v := r.Varint(); v != -7 {
		t.Errorf("Varint = %d", v)
	}
	n := r.Count(8)
	if n != 2 {
		t.Fatalf("Count = %d", n)
	}
	if a, z := r.Uint64(), r.Uint64(); a != 1 || z != math.MaxUint64 {
		t.Errorf("Uint64 = %d, %d", a, z)
	}
	if s := r.Text(); s != "" {
		t.Errorf("String = %q", s)
	}
	if err := r.Complete(); err != nil {
		t.Fatal(err)
	}
}

func TestBytesDoesNotGrowIntoInput(t *testing.T) {
	in := []byte{1, 2, 3, 4}
	r := NewReader(in)
	v := r.Bytes(2)
	_ = append(v, 9)
	if in[2] != 3 {
		t.Error("appending to a read slice overwrote the input")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(cat(uv(3), []byte("abc"), AppendUint64(nil, 5)), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, seed uint8) {
		r := NewReader(in)
		ops := []func(){
			func() { r.Byte() }, func() { r.Flag() }, func() { r.Bytes(int(seed) - 128) },
			func() { r.Uint64() }, func() { r.Varint() }, func() { r.Uvarint() },
			func() { r.Count(int(seed % 9)) }, func() { r.Raw() }, func() { _ = r.Text() },
		}
		for i := 0; i < 16; i++ {
			before := r.Len()
			failed := r.Err() != nil
			ops[(int(seed)+i*7)%len(ops)]()
			if r.Len() > before || (failed && r.Err() == nil) {
				t.Fatalf("reader went backwards: Len %d -> %d, err %v", before, r.Len(), r.Err())
			}
			if r.Err() != nil && r.Len() != 0 {
				t.Fatalf("failed reader kept %d bytes", r.Len())
			}
		}
	})
}
