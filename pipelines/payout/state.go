package payout

import (
	"encoding/binary"
	"errors"
	"slices"
	"sort"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

// State is one referral owner's payout state: per currency the balance carried forward, the
// entries of open periods and the ids of recently closed entries; and the owner's first open
// period. The zero value is a new owner. A State is not safe for concurrent use.
type State struct {
	owner     string
	closed    int64 // start (unix seconds) of the first open period; valid when closedSet
	closedSet bool
	accts     []account // sorted by currency
}

type account struct {
	cur     string
	balance decimal.Decimal // carried forward into the period starting at next
	next    int64           // start of the period after the last statement; valid when nextSet
	nextSet bool
	entries []entry     // open entries, sorted by id
	seen    []seenGroup // hashed ids of closed entries, by period, oldest first
}

type entry struct {
	id     string
	amount decimal.Decimal
	period int64 // start (unix seconds) of the period it is booked in
}

type seenGroup struct {
	period int64
	hashes []uint64 // sorted
}

// Owner returns the owner business id ("" for a new state).
func (s *State) Owner() string { return s.owner }

// OpenFrom returns the start of the owner's first open period (false: none closed yet).
func (s *State) OpenFrom() (int64, bool) { return s.closed, s.closedSet }

// Open returns the number of entries booked in open periods.
func (s *State) Open() int {
	n := 0
	for i := range s.accts {
		n += len(s.accts[i].entries)
	}
	return n
}

// Idle reports whether the state has nothing left to state: no open entries and a zero
// balance in every currency. An idle state only remembers closed ids for dedupe.
func (s *State) Idle() bool {
	for i := range s.accts {
		if len(s.accts[i].entries) > 0 || !s.accts[i].balance.IsZero() {
			return false
		}
	}
	return true
}

// Balance returns the balance carried forward in currency (zero when none).
func (s *State) Balance(currency string) decimal.Decimal {
	for i := range s.accts {
		if s.accts[i].cur == currency {
			return s.accts[i].balance
		}
	}
	return decimal.Decimal{}
}

func (s *State) account(cur string) *account {
	i := sort.Search(len(s.accts), func(i int) bool { return s.accts[i].cur >= cur })
	if i < len(s.accts) && s.accts[i].cur == cur {
		return &s.accts[i]
	}
	s.accts = slices.Insert(s.accts, i, account{cur: cur})
	return &s.accts[i]
}

// find returns where id is or would be in the sorted open entries.
func (a *account) find(id string) (int, bool) {
	i := sort.Search(len(a.entries), func(i int) bool { return a.entries[i].id >= id })
	return i, i < len(a.entries) && a.entries[i].id == id
}

func (a *account) closedSeen(h uint64) bool {
	for _, g := range a.seen {
		if _, ok := slices.BinarySearch(g.hashes, h); ok {
			return true
		}
	}
	return false
}

// prune forgets the closed ids of periods that started before cutoff (unix seconds) and
// drops accounts left with nothing.
func (s *State) prune(cutoff int64) {
	kept := s.accts[:0]
	for _, a := range s.accts {
		n := 0
		for n < len(a.seen) && a.seen[n].period < cutoff {
			n++
		}
		a.seen = a.seen[n:]
		if len(a.entries) == 0 && a.balance.IsZero() && len(a.seen) == 0 {
			continue
		}
		kept = append(kept, a)
	}
	clear(s.accts[len(kept):])
	s.accts = kept
}

// remembered is the number of closed ids kept for dedupe.
func (s *State) remembered() int {
	n := 0
	for i := range s.accts {
		for _, g := range s.accts[i].seen {
			n += len(g.hashes)
		}
	}
	return n
}

// Empty reports whether the state holds nothing at all (the runner may delete it).
func (s *State) Empty() bool { return len(s.accts) == 0 }

// hashID is FNV-1a 64 of a commission id.
func hashID(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

const stateVersion = 1

// MarshalBinary encodes the state as the changelog value.
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the changelog encoding of the state to dst.
func (s *State) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, stateVersion)
	dst = appendString(dst, s.owner)
	if s.closedSet {
		dst = append(dst, 1)
		dst = binary.AppendVarint(dst, s.closed)
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.accts)))
	for i := range s.accts {
		a := &s.accts[i]
		exp, _ := schemas.MinorUnit(a.cur)
		dst = appendString(dst, a.cur)
		dst = appendAmount(dst, a.balance, exp)
		if a.nextSet {
			dst = append(dst, 1)
			dst = binary.AppendVarint(dst, a.next)
		} else {
			dst = append(dst, 0)
		}
		dst = binary.AppendUvarint(dst, uint64(len(a.entries)))
		for _, en := range a.entries {
			dst = appendString(dst, en.id)
			dst = appendAmount(dst, en.amount, exp)
			dst = binary.AppendVarint(dst, en.period)
		}
		dst = binary.AppendUvarint(dst, uint64(len(a.seen)))
		for _, g := range a.seen {
			dst = binary.AppendVarint(dst, g.period)
			dst = binary.AppendUvarint(dst, uint64(len(g.hashes)))
			for _, h := range g.hashes {
				dst = binary.LittleEndian.AppendUint64(dst, h)
			}
		}
	}
	return dst, nil
}

// appendAmount writes d as a varint of minor units when it has exactly the currency's
// exponent and fits (the common case), else as a decimal string.
func appendAmount(dst []byte, d decimal.Decimal, exp int32) []byte {
	if d.Exponent() > -exp {
		d = d.Round(exp) // exact: adds zeros (a zero balance, an amount written "20")
	}
	if d.Exponent() == -exp && d.NumDigits() <= 18 {
		dst = append(dst, 0)
		return binary.AppendVarint(dst, d.CoefficientInt64())
	}
	dst = append(dst, 1)
	return appendString(dst, d.String())
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errCorrupt = errors.New("corrupt payout state")

// UnmarshalBinary decodes a changelog value into s, replacing its contents. On error s is
// unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	if r.byte() != stateVersion {
		return errCorrupt
	}
	var n State
	n.owner = r.str()
	if r.flag() {
		n.closed, n.closedSet = r.varint(), true
	}
	na := r.count(4)
	for k := 0; k < na && r.err == nil; k++ {
		a := account{cur: r.str()}
		exp, ok := schemas.MinorUnit(a.cur)
		if !ok || (len(n.accts) > 0 && n.accts[len(n.accts)-1].cur >= a.cur) {
			r.fail()
		}
		a.balance = r.dec(exp)
		if r.flag() {
			a.next, a.nextSet = r.varint(), true
		}
		ne := r.count(4)
		for j := 0; j < ne && r.err == nil; j++ {
			en := entry{id: r.str(), amount: r.dec(exp), period: r.varint()}
			if en.id == "" || (len(a.entries) > 0 && a.entries[len(a.entries)-1].id >= en.id) {
				r.fail()
			}
			a.entries = append(a.entries, en)
		}
		ng := r.count(2)
		for j := 0; j < ng && r.err == nil; j++ {
			g := seenGroup{period: r.varint()}
			nh := r.count(8)
			g.hashes = make([]uint64, 0, nh)
			for h := 0; h < nh && r.err == nil; h++ {
				g.hashes = append(g.hashes, binary.LittleEndian.Uint64(r.bytes(8)))
			}
			a.seen = append(a.seen, g)
		}
		n.accts = append(n.accts, a)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return r.err
	}
	*s = n
	return nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) flag() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return make([]byte, n&0xff)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length whose items take at least min bytes each, refusing lengths the rest
// of the input cannot hold (no huge allocations from corrupt input).
func (r *reader) count(min int) int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)-n)/uint64(min) {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) str() string {
	n := r.count(1)
	return string(r.bytes(n))
}

func (r *reader) dec(exp int32) decimal.Decimal {
	switch r.byte() {
	case 0:
		return decimal.New(r.varint(), -exp)
	case 1:
	default:
		r.fail()
		return decimal.Decimal{}
	}
	s := r.str()
	if r.err != nil {
		return decimal.Decimal{}
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.Equal(d.Round(exp)) {
		r.fail()
		return decimal.Decimal{}
	}
	return d.Round(exp)
}
