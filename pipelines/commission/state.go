package commission

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/schemas/wire"
)

// State is one client's ledger state: the referral owner (only the current winner, R1) and
// the client's bookings within the horizon (for refunds, cancellations and ownership
// corrections). The zero value is a new client. A State is not safe for concurrent use; the
// runner owns each client's state on one goroutine (its partition).
//
// Layout: an owner-only client is one 64-byte allocation (no pointers to private memory
// besides the interned owner id) when its establishing event id is a canonical UUID or at most
// 16 bytes; everything else lives behind x.
type State struct {
	since  int64    // owned_since, unix nanos; valid when owner != ""
	pruned int64    // bookings before this time were pruned (0: none); older unknown bookings are refused
	owner  string   // interned owner business id; "" = no owner yet
	ev     [16]byte // establishing event id, packed (see evKind)
	evKind uint8    // 0..16: raw id of that length in ev; evUUIDLower/Upper: packed UUID; evLong: in x.ev
	src    uint8    // srcEnrollment or srcBooking
	x      *extra
}

const (
	evUUIDLower = 17
	evUUIDUpper = 18
	evLong      = 19

	srcEnrollment = 1
	srcBooking    = 2
)

type extra struct {
	ev    string // establishing event id when evKind == evLong
	books []book
}

// extraWithBook is an extra with room for its first book, in one allocation: most kept
// clients hold one booking, and every heap object is work for every garbage collection of a
// consumer holding millions of clients (BenchmarkBookedStateGC). When a second book comes,
// add moves both to a plain extra and a books array of their own, and this one is freed.
type extraWithBook struct {
	extra
	first [1]book
}

// withBookRoom returns an extra holding x's event id (x may be nil) whose books have room
// for one, in the same object.
func withBookRoom(x *extra) *extra {
	w := &extraWithBook{}
	if x != nil {
		w.ev = x.ev
	}
	w.books = w.first[:0]
	return &w.extra
}

// hashID is the hash the state keeps of an applied id (wire.Hash).
func hashID(s string) uint64 { return wire.Hash(s) }

// Owner returns the client's referral owner. ClientID is empty: the state does not store its
// key (the changelog and referral-owners topics are keyed by client_id); the caller sets it.
func (s *State) Owner() (schemas.ReferralOwner, bool) {
	if s.owner == "" {
		return schemas.ReferralOwner{}, false
	}
	src := schemas.OwnerByEnrollment
	if s.src == srcBooking {
		src = schemas.OwnerByBooking
	}
	return schemas.ReferralOwner{
		OwnerBusinessID: s.owner,
		OwnedSince:      time.Unix(0, s.since).UTC(),
		Source:          src,
		EventID:         s.eventID(),
	}, true
}

// Empty reports whether the state holds nothing worth keeping (no owner, no bookings): the
// runner writes a tombstone instead.
func (s *State) Empty() bool {
	return s.owner == "" && (s.x == nil || len(s.x.books) == 0)
}

// Bookings returns the number of bookings kept (for metrics).
func (s *State) Bookings() int {
	if s.x == nil {
		return 0
	}
	return len(s.x.books)
}

func (s *State) find(id string) int {
	if s.x == nil {
		return -1
	}
	// From the latest booking back: a booking's events are close in time, so its booking is
	// usually among the last added (ids are unique in a state: the order finds the same one).
	// The id is packed once, as the books keep theirs, and compared as 16 bytes.
	p := packQuery(id)
	for i := len(s.x.books) - 1; i >= 0; i-- {
		if s.x.books[i].idIs(&p) {
			return i
		}
	}
	return -1
}

// add appends booking b to s and returns it (valid until the next add). The books grow by
// a quarter, not double: a state's bookings change slowly and a book is large.
func (s *State) add(b book) *book {
	if s.x == nil || cap(s.x.books) == 0 {
		s.x = withBookRoom(s.x) // an extra holding only a long event id too
	}
	if n := len(s.x.books); n == cap(s.x.books) {
		books := make([]book, n, n+n/4+2)
		copy(books, s.x.books)
		if n == 1 {
			// a new extra too: the old one is an extraWithBook, whose room is then unused
			s.x = &extra{ev: s.x.ev, books: books}
		} else {
			s.x.books = books
		}
	}
	s.x.books = append(s.x.books, b)
	return &s.x.books[len(s.x.books)-1]
}

// cmpEst compares establishing event (t, id) with the current owner's: negative when it is
// earlier (it wins), zero when it is the same event.
func (s *State) cmpEst(t int64, id string) int {
	if t != s.since {
		if t < s.since {
			return -1
		}
		return 1
	}
	var buf [36]byte
	ev := s.evBytes(buf[:0])
	switch {
	case id < string(ev):
		return -1
	case id == string(ev):
		return 0
	}
	return 1
}

func (s *State) setOwner(owner string, t int64, id string, src uint8) {
	s.owner, s.since, s.src = owner, t, src
	s.ev = [16]byte{}
	if s.x != nil {
		s.x.ev = ""
		if len(s.x.books) == 0 {
			s.x = nil
		}
	}
	if k, ok := packID(&s.ev, id); ok {
		s.evKind = k
		return
	}
	s.evKind = evLong
	if s.x == nil {
		s.x = &extra{}
	}
	s.x.ev = strings.Clone(id)
}

func (s *State) eventID() string {
	if s.evKind == evLong {
		return s.x.ev
	}
	var buf [36]byte
	return string(s.evBytes(buf[:0]))
}

// evBytes appends the establishing event id to dst.
func (s *State) evBytes(dst []byte) []byte {
	if s.evKind == evLong {
		return append(dst, s.x.ev...)
	}
	return appendPacked(dst, &s.ev, s.evKind)
}

// packID packs id into dst the way states keep event and booking ids: kind 0..16 for a raw
// id of that length, evUUIDLower or evUUIDUpper for a canonical UUID in one letter case; ok
// false for any other id (kept as a string, kind evLong).
func packID(dst *[16]byte, id string) (kind uint8, ok bool) {
	*dst = [16]byte{}
	switch {
	case len(id) <= 16:
		copy(dst[:], id)
		return uint8(len(id)), true
	case packUUID(dst, id, false):
		return evUUIDLower, true
	case packUUID(dst, id, true):
		return evUUIDUpper, true
	}
	return evLong, false
}

// appendPacked appends the id packed by packID (kind ≠ evLong) to dst.
func appendPacked(dst []byte, p *[16]byte, kind uint8) []byte {
	if kind != evUUIDLower && kind != evUUIDUpper {
		return append(dst, p[:kind]...)
	}
	hex := "0123456789abcdef"
	if kind == evUUIDUpper {
		hex = "0123456789ABCDEF"
	}
	for i, c := range p {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}

// packedID is an id packed for comparison with kept ones (book.idIs).
type packedID struct {
	b    [16]byte
	kind uint8
	long string // the id when kind == evLong
}

func packQuery(id string) packedID {
	var p packedID
	k, ok := packID(&p.b, id)
	p.kind = k
	if !ok {
		p.long = id
	}
	return p
}

// packUUID packs a canonical UUID (8-4-4-12 hex digits, one letter case) into 16 bytes.
func packUUID(dst *[16]byte, id string, upper bool) bool {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return false
	}
	var out [16]byte
	n := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, ok1 := unhex(id[i], upper)
		lo, ok2 := unhex(id[i+1], upper)
		if !ok1 || !ok2 {
			return false
		}
		out[n] = hi<<4 | lo
		n++
	}
	if n != 16 {
		return false
	}
	*dst = out
	return true
}

func unhex(c byte, upper bool) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case !upper && c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case upper && c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Changelog encoding, version 2 (all integers varint/uvarint, strings length-prefixed):
//
//	version(2) flags(bit0 owner, bit1 source=booking)
//	[owner: since owner evKind evBytes]
//	pruned nbooks { id provider status done at [done: cur amount refunded owner rate payable announced] nseen seen×8 }
//
// Version 1 (no announced) is still read: its bookings count as announced after every rate.
const (
	stateVersion   = 2
	stateVersionV1 = 1
)

// MarshalBinary encodes the state as the changelog value.
func (s *State) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, s.sizeHint()))
}

func (s *State) sizeHint() int {
	n := 2 + 10 + len(s.owner) + 2 + 36 + 10 + 2
	if s.x != nil {
		n += len(s.x.ev) + len(s.x.books)*96
	}
	return n
}

// AppendBinary appends the changelog encoding of the state to dst.
func (s *State) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, stateVersion)
	var flags byte
	if s.owner != "" {
		flags |= 1
		if s.src == srcBooking {
			flags |= 2
		}
	}
	dst = append(dst, flags)
	if s.owner != "" {
		dst = binary.AppendVarint(dst, s.since)
		dst = wire.AppendString(dst, s.owner)
		dst = append(dst, s.evKind)
		switch s.evKind {
		case evUUIDLower, evUUIDUpper:
			dst = append(dst, s.ev[:]...)
		case evLong:
			dst = wire.AppendString(dst, s.x.ev)
		default:
			dst = append(dst, s.ev[:s.evKind]...)
		}
	}
	dst = binary.AppendVarint(dst, s.pruned)
	var books []book
	if s.x != nil {
		books = s.x.books
	}
	dst = binary.AppendUvarint(dst, uint64(len(books)))
	for i := range books {
		dst = appendBook(dst, &books[i])
	}
	return dst, nil
}

// appendBook appends one booking of the changelog encoding.
func appendBook(dst []byte, b *book) []byte {
	dst = binary.AppendUvarint(dst, uint64(b.idLen()))
	dst = b.appendID(dst)
	dst = wire.AppendString(dst, b.provider)
	dst = append(dst, byte(b.status))
	dst = wire.AppendFlag(dst, b.done)
	dst = binary.AppendVarint(dst, b.at)
	if b.done {
		dst = wire.AppendString(dst, b.currency())
		dst = appendBookDecimal(dst, b, bigAmount, b.amount, b.amountExp)
		dst = appendBookDecimal(dst, b, bigRefunded, b.refunded, b.refundedExp)
		dst = wire.AppendString(dst, b.owner)
		dst = appendBookDecimal(dst, b, bigRate, b.rate, b.rateExp)
		dst = binary.AppendVarint(dst, b.payable)
		dst = binary.AppendVarint(dst, b.announced)
	}
	dst = binary.AppendUvarint(dst, uint64(b.seenCount()))
	for _, h := range b.seen[:b.nseen] {
		dst = wire.AppendUint64(dst, h)
	}
	if b.x != nil {
		for _, h := range b.x.seen {
			dst = wire.AppendUint64(dst, h)
		}
	}
	return dst
}

// appendBookDecimal is appendDecimal of one of b's decimals (flag), from its coefficient and
// exponent unless it is big.
func appendBookDecimal(dst []byte, b *book, flag uint8, c int64, e int8) []byte {
	if b.big&flag != 0 {
		return appendDecimal(dst, *b.x.big(flag))
	}
	dst = binary.AppendVarint(dst, int64(e))
	return binary.AppendVarint(dst, c)
}

// appendDecimal encodes d as varint exponent then varint coefficient, or, for a coefficient
// beyond int64, a marker exponent (math.MinInt32-ish, never a real one) and the decimal text.
func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	if d.NumDigits() <= 18 {
		dst = binary.AppendVarint(dst, int64(d.Exponent()))
		return binary.AppendVarint(dst, d.CoefficientInt64())
	}
	dst = binary.AppendVarint(dst, bigDecimal)
	return wire.AppendString(dst, d.String())
}

const bigDecimal = 1 << 40 // exponent marker: the decimal follows as text

var errCorrupt = errors.New("corrupt state")

// UnmarshalBinary decodes a changelog value into s, replacing its contents. On error s is
// unchanged. Engine.UnmarshalState does the same and interns business ids (less memory).
func (s *State) UnmarshalBinary(data []byte) error {
	return s.unmarshal(data, func(b []byte) string { return string(b) })
}

func (s *State) unmarshal(data []byte, str func([]byte) string) error {
	r := wire.NewReader(data)
	v := r.Byte()
	if v != stateVersion && v != stateVersionV1 {
		if r.Err() != nil {
			return fmt.Errorf("decoding state: %w", errCorrupt)
		}
		return fmt.Errorf("decoding state: unknown version %d", v)
	}
	var n State
	flags := r.Byte()
	if flags&^3 != 0 {
		return fmt.Errorf("decoding state: %w: flags %#x", errCorrupt, flags)
	}
	if flags&1 != 0 {
		readOwner(&r, &n, flags, str)
	}
	n.pruned = r.Varint()
	nb := r.Count(7) // every booking takes at least 7 bytes
	var books []book
	switch {
	case nb == 1:
		n.x = withBookRoom(n.x)
		books = n.x.books
	case nb > 0:
		books = make([]book, 0, nb)
	}
	for i := 0; i < nb && r.Err() == nil; i++ {
		books = append(books, readBook(&r, str, v))
	}
	if r.Complete() != nil {
		return fmt.Errorf("decoding state: %w", errCorrupt)
	}
	if len(books) > 0 {
		if n.x == nil {
			n.x = &extra{}
		}
		n.x.books = books
	}
	*s = n
	return nil
}

// readOwner reads the owner part of a changelog value (flags bit 0 set) into n; a bad one
// fails r.
func readOwner(r *wire.Reader, n *State, flags byte, str func([]byte) string) {
	since := r.Varint()
	owner := str(r.Raw())
	src := uint8(srcEnrollment)
	if flags&2 != 0 {
		src = srcBooking
	}
	var id string
	switch k := r.Byte(); {
	case k == evUUIDLower || k == evUUIDUpper:
		var ev [16]byte
		copy(ev[:], r.Bytes(16))
		tmp := State{ev: ev, evKind: k}
		id = tmp.eventID()
	case k == evLong:
		id = r.Text()
		if len(id) <= 16 {
			r.Fail()
		}
	case k <= 16:
		id = string(r.Bytes(int(k)))
	default:
		r.Fail()
	}
	if owner == "" {
		r.Fail()
	}
	if r.Err() == nil {
		n.setOwner(owner, since, id, src)
	}
}

// readBook reads one booking of a changelog value; a bad one fails r.
func readBook(r *wire.Reader, str func([]byte) string, version byte) book {
	var b book
	id := r.Raw()
	// setID packs the id or clones it: the bytes are not kept.
	b.setID(unsafe.String(unsafe.SliceData(id), len(id)))
	b.provider = str(r.Raw())
	b.status = schemas.Status(r.Byte())
	b.done = r.Flag()
	b.at = r.Varint()
	if b.status < schemas.StatusCreated || b.status > schemas.StatusRefunded || len(id) == 0 {
		r.Fail()
	}
	if b.done {
		cur, ok := schemas.CurrencyIndex(string(r.Raw()))
		if !ok {
			r.Fail()
		}
		b.cur = cur
		amount, refunded := readDecimal(r), readDecimal(r)
		b.owner = str(r.Raw())
		rate := readDecimal(r)
		b.setAmount(amount)
		b.setRefunded(refunded)
		b.setRate(rate)
		b.payable = r.Varint()
		b.announced = announcedUnknown
		if version >= 2 {
			b.announced = r.Varint()
		}
		if amount.Sign() <= 0 || refunded.GreaterThan(amount) || rate.GreaterThan(decimal.NewFromInt(1)) {
			r.Fail()
		}
	} else if b.status != schemas.StatusCreated && b.status != schemas.StatusConfirmed && b.status != schemas.StatusCancelled {
		r.Fail()
	}
	for range r.Count(8) {
		b.addSeen(r.Uint64())
	}
	return b
}

// readDecimal reads a decimal written by appendDecimal: non-negative, exponent within ±32.
func readDecimal(r *wire.Reader) decimal.Decimal {
	e := r.Varint()
	var d decimal.Decimal
	if e == bigDecimal {
		var err error
		if d, err = decimal.NewFromString(string(r.Raw())); err != nil {
			r.Fail()
		}
	} else {
		c := r.Varint()
		if e < -32 || e > 32 {
			r.Fail()
		}
		d = decimal.New(c, int32(e))
	}
	if r.Err() != nil || d.Sign() < 0 || d.Exponent() < -32 || d.Exponent() > 32 {
		r.Fail()
		return decimal.Decimal{}
	}
	return d
}
