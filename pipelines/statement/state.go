package statement

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/schemas/wire"
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
	late   bool  // booked after its payable_at's period (see Engine.AddFrom)
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

// hashID is the hash the state keeps of an applied id (wire.Hash).
func hashID(s string) uint64 { return wire.Hash(s) }

// stateVersion 2 added the late flag of open entries; version 1 values (no flag) still decode.
const stateVersion = 2

// MarshalBinary encodes the state as the changelog value.
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the changelog encoding of the state to dst.
func (s *State) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, stateVersion)
	dst = wire.AppendString(dst, s.owner)
	dst = wire.AppendFlag(dst, s.closedSet)
	if s.closedSet {
		dst = binary.AppendVarint(dst, s.closed)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.accts)))
	for i := range s.accts {
		a := &s.accts[i]
		exp, _ := schemas.MinorUnit(a.cur)
		dst = wire.AppendString(dst, a.cur)
		dst = appendAmount(dst, a.balance, exp)
		dst = wire.AppendFlag(dst, a.nextSet)
		if a.nextSet {
			dst = binary.AppendVarint(dst, a.next)
		}
		dst = binary.AppendUvarint(dst, uint64(len(a.entries)))
		for _, en := range a.entries {
			dst = wire.AppendString(dst, en.id)
			dst = appendAmount(dst, en.amount, exp)
			dst = binary.AppendVarint(dst, en.period)
			dst = wire.AppendFlag(dst, en.late)
		}
		dst = binary.AppendUvarint(dst, uint64(len(a.seen)))
		for _, g := range a.seen {
			dst = binary.AppendVarint(dst, g.period)
			dst = binary.AppendUvarint(dst, uint64(len(g.hashes)))
			for _, h := range g.hashes {
				dst = wire.AppendUint64(dst, h)
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
		dst = wire.AppendFlag(dst, false)
		return binary.AppendVarint(dst, d.CoefficientInt64())
	}
	dst = wire.AppendFlag(dst, true) // as text
	return wire.AppendString(dst, d.String())
}

var errCorrupt = errors.New("corrupt payout state")

// UnmarshalBinary decodes a changelog value into s, replacing its contents. On error s is
// unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	r := wire.NewReader(data)
	version := r.Byte()
	if version != 1 && version != stateVersion {
		return errCorrupt
	}
	var n State
	n.owner = r.Text()
	if r.Flag() {
		n.closed, n.closedSet = readInstant(&r), true
	}
	na := r.Count(4)
	for k := 0; k < na && r.Err() == nil; k++ {
		a := account{cur: r.Text()}
		exp, ok := schemas.MinorUnit(a.cur)
		if !ok || (len(n.accts) > 0 && n.accts[len(n.accts)-1].cur >= a.cur) {
			r.Fail()
		}
		a.balance = readAmount(&r, exp)
		if r.Flag() {
			a.next, a.nextSet = readInstant(&r), true
		}
		ne := r.Count(4)
		for j := 0; j < ne && r.Err() == nil; j++ {
			en := entry{id: r.Text(), amount: readAmount(&r, exp), period: readInstant(&r)}
			if version >= 2 {
				en.late = r.Flag()
			}
			if en.id == "" || (len(a.entries) > 0 && a.entries[len(a.entries)-1].id >= en.id) {
				r.Fail()
			}
			a.entries = append(a.entries, en)
		}
		ng := r.Count(2)
		for j := 0; j < ng && r.Err() == nil; j++ {
			g := seenGroup{period: readInstant(&r)}
			nh := r.Count(8)
			g.hashes = make([]uint64, 0, nh)
			for h := 0; h < nh && r.Err() == nil; h++ {
				g.hashes = append(g.hashes, r.Uint64())
			}
			a.seen = append(a.seen, g)
		}
		n.accts = append(n.accts, a)
	}
	if r.Complete() != nil {
		return errCorrupt
	}
	*s = n
	return nil
}

// The instants of a state (period starts, the last closed period) are Unix seconds whose
// nanoseconds fit an int64: years 1677–2262, the range schemas.Bounds keeps every computed
// time in (TimeSlack). One outside is corrupt. The bound also bounds the work of a corrupt
// state that decodes: Advance walks at most the periods of those years, not billions of them
// (FuzzUnmarshal found a state whose next period lay so far back that Advance ran out of memory).
const (
	minInstant = math.MinInt64 / int64(time.Second)
	maxInstant = math.MaxInt64 / int64(time.Second)
)

// readInstant reads a varint instant, failing r when it is outside [minInstant, maxInstant].
func readInstant(r *wire.Reader) int64 {
	v := r.Varint()
	if v < minInstant || v > maxInstant {
		r.Fail()
	}
	return v
}

// readAmount reads an amount written by appendAmount in a currency of exponent exp.
func readAmount(r *wire.Reader, exp int32) decimal.Decimal {
	if !r.Flag() {
		return decimal.New(r.Varint(), -exp)
	}
	s := r.Text()
	if r.Err() != nil {
		return decimal.Decimal{}
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.Equal(d.Round(exp)) {
		r.Fail()
		return decimal.Decimal{}
	}
	return d.Round(exp)
}
