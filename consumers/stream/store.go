package stream

import (
	"iter"
	"unsafe"
)

// store holds a partition's decoded states so that the garbage collector walks them cheaply.
// A consumer keeps millions of keys in memory, and every GC cycle marks all of them: as a map
// of key strings to entry pointers that is three objects a key (the key's bytes, the entry,
// the map slot pointing at both), and at 10,000 bookings/s the cycle that marks them is the
// latency tail (docs/BENCHMARKS.md, "the ledger's GC is the latency tail"). Here the keys'
// bytes live in shared chunks (keyArena) and the entries in fixed-size slabs, so a key costs
// the GC one map slot and whatever pointers its S holds itself.
//
// A slot's address never changes (slabs are never grown or moved), so the *entry a lookup
// returns stays valid until the key is removed. A removed key's slot is zeroed and reused;
// its bytes stay in the arena until compaction copies the live keys to new chunks. Strings
// handed out by all are never overwritten: a caller may keep them.
type store[S any] struct {
	idx   map[string]int32 // key (its bytes in keys) → slot
	slabs [][]entry[S]     // slabSize entries each
	next  int32            // slots handed out so far, the free ones included
	free  []int32          // zeroed slots of removed keys, reused first
	keys  keyArena
}

// slabSize is the number of entries in one slab.
const slabSize = 1024

func newStore[S any]() store[S] { return store[S]{idx: make(map[string]int32)} }

// len returns the number of keys.
func (s *store[S]) len() int { return len(s.idx) }

// slot returns the entry of slot i.
func (s *store[S]) slot(i int32) *entry[S] { return &s.slabs[i/slabSize][i%slabSize] }

// find returns the entry of key, nil when there is none.
func (s *store[S]) find(key string) *entry[S] {
	i, ok := s.idx[key]
	if !ok {
		return nil
	}
	return s.slot(i)
}

// findBytes is find for a key given as bytes, without converting it to a string.
func (s *store[S]) findBytes(key []byte) *entry[S] {
	i, ok := s.idx[string(key)]
	if !ok {
		return nil
	}
	return s.slot(i)
}

// add returns a zero entry for key, which must not be in s; the key's bytes are copied.
func (s *store[S]) add(key string) *entry[S] {
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
	} else {
		if int(s.next) == len(s.slabs)*slabSize {
			s.slabs = append(s.slabs, make([]entry[S], slabSize))
		}
		i = s.next
		s.next++
	}
	s.idx[s.keys.intern(key)] = i
	return s.slot(i)
}

// remove forgets key (nothing when it is not in s).
func (s *store[S]) remove(key string) {
	i, ok := s.idx[key]
	if !ok {
		return
	}
	delete(s.idx, key)
	*s.slot(i) = entry[S]{}
	s.free = append(s.free, i)
	if s.keys.release(len(key)) {
		s.compact()
	}
}

// compact copies the live keys into new chunks, so that the old ones, which hold mostly
// removed keys, can be collected.
func (s *store[S]) compact() {
	idx := make(map[string]int32, len(s.idx))
	var keys keyArena
	for k, i := range s.idx {
		idx[keys.intern(k)] = i
	}
	s.idx, s.keys = idx, keys
}

// all yields every key and its entry, in no particular order. The entries may be changed;
// keys must not be added or removed while it runs.
func (s *store[S]) all() iter.Seq2[string, *entry[S]] {
	return func(yield func(string, *entry[S]) bool) {
		for k, i := range s.idx {
			if !yield(k, s.slot(i)) {
				return
			}
		}
	}
}

// keyArena holds copies of keys back to back in chunks of keyChunk bytes; a key is a string
// pointing into its chunk, so a million keys are a few dozen objects for the GC.
type keyArena struct {
	chunk []byte
	live  int // bytes of the keys interned and not released
	dead  int // bytes of released keys, still in their chunks
}

// keyChunk is the size of a key arena's chunks.
const keyChunk = 256 << 10

// intern returns a copy of k in the arena.
func (a *keyArena) intern(k string) string {
	if k == "" {
		return ""
	}
	if len(k) > cap(a.chunk)-len(a.chunk) {
		a.chunk = make([]byte, 0, max(keyChunk, len(k)))
	}
	n := len(a.chunk)
	a.chunk = append(a.chunk, k...)
	a.live += len(k)
	// The bytes are never written again: the string is as immutable as any other.
	return unsafe.String(&a.chunk[n], len(k))
}

// release records that a key of n bytes was removed; it reports whether the arena now holds
// more removed bytes than live ones (and more than a chunk), time to compact.
func (a *keyArena) release(n int) bool {
	a.live -= n
	a.dead += n
	return a.dead > keyChunk && a.dead > a.live
}
