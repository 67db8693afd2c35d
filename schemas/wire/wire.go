package wire

import (
	"encoding/binary"
	"errors"
)

// ErrCorrupt is the error a Reader records: the input is truncated or malformed.
var ErrCorrupt = errors.New("corrupt input")

// Hash is FNV-1a 64 of s: the hash the states keep of the event and commission ids they have
// applied (it is part of their changelog values, so it never changes).
func Hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Reader decodes the primitives from a byte slice. A read past the end or of a malformed
// value records ErrCorrupt, drops the rest of the input and returns the zero value; every
// later read returns zero values too, so a decoder reads a whole record and checks Err
// once. The zero value reads an empty input.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader of b. Raw and Bytes return subslices of b, not copies.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Err returns the first error recorded, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes left to read.
func (r *Reader) Len() int { return len(r.b) }

// Fail records ErrCorrupt (unless an error is already recorded) and drops the rest of the
// input. Decoders call it when a well-formed value is invalid for their format.
func (r *Reader) Fail() {
	if r.err == nil {
		r.err = ErrCorrupt
	}
	r.b = nil
}

// Complete records ErrCorrupt if input is left unread and returns the first error.
func (r *Reader) Complete() error {
	if r.err == nil && len(r.b) != 0 {
		r.Fail()
	}
	return r.err
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.Fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Flag reads a byte that must be 0 (false) or 1 (true).
func (r *Reader) Flag() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.Fail()
	return false
}

// Bytes reads the next n bytes (nil on failure, including a negative n).
func (r *Reader) Bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.Fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Uint64 reads a fixed 8-byte little-endian integer.
func (r *Reader) Uint64() uint64 {
	if len(r.b) < 8 {
		r.Fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// Varint reads a zig-zag varint (binary.AppendVarint).
func (r *Reader) Varint() int64 {
	u := r.Uvarint() // binary.Varint: the zig-zag form of an unsigned varint
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// Uvarint reads an unsigned varint (binary.AppendUvarint).
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads the uvarint length of a sequence whose items take at least min bytes each
// (min < 1 counts as 1). A length the rest of the input cannot hold fails, so a corrupt
// length never sizes a huge allocation.
func (r *Reader) Count(min int) int {
	if min < 1 {
		min = 1
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)-n)/uint64(min) {
		r.Fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// Raw reads length-prefixed bytes (AppendString) without copying.
func (r *Reader) Raw() []byte { return r.Bytes(r.Count(1)) }

// Text reads a length-prefixed string (AppendString). (Not String: a Reader is no fmt.Stringer.)
func (r *Reader) Text() string { return string(r.Raw()) }

// AppendString appends s length-prefixed (Reader.Text, Reader.Raw).
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendFlag appends v as one byte, 0 or 1 (Reader.Flag).
func AppendFlag(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendUint64 appends v as 8 bytes little-endian (Reader.Uint64).
func AppendUint64(dst []byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, v)
}
