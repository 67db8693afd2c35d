package commission

import (
	"math"
	"strings"
	"unsafe"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// book is one booking of the client kept in state (for refunds, cancellations and ownership
// corrections). It is laid out for the bookings most states hold, in one flat value without
// heap allocations of its own: the booking id packed like the establishing event id (a
// canonical UUID or at most 16 bytes), up to inlineSeen applied event hashes inline, and each
// decimal as its int64 coefficient and int8 exponent. What does not fit (a longer id, more
// events, a decimal beyond 18 digits or that exponent) lives behind x. Every accessor returns
// the same decimal (coefficient and exponent) that was set, so the changelog encoding and every
// entry built from a book are what they were with decimal fields.
type book struct {
	provider string // interned
	owner    string // interned business that holds this booking's commission; "" = none (direct value or not completed)
	at       int64  // completion time once completed, else the latest event's time
	payable  int64  // payable_at of owner's accrual
	// announced is when the completion was announced (its record's timestamp, unix nanos;
	// announcedUnknown: every rate counts): the rates of this booking are those announced by
	// then (Rates.AtAsOf), whenever (owner, booking) is judged.
	announced int64

	// Coefficients of the decimals (the exponents below), unless big has their bit. rate is
	// the owner's rate, fixed at the first judgement of (owner, booking).
	amount, refunded, rate int64

	seen [inlineSeen]uint64 // FNV-1a hashes of the booking's first applied event ids (R4); the rest in x.seen
	x    *bookExtra

	id     [16]byte // the booking id, packed (idKind)
	idKind uint8    // as State.evKind: 0..16 raw, evUUIDLower/Upper packed, evLong in x.id
	nseen  uint8    // hashes in seen
	big    uint8    // bigAmount, bigRefunded, bigRate: that decimal is in x
	status schemas.Status
	done   bool  // reached completed
	cur    uint8 // schemas.CurrencyIndex of the currency; set once completed (0 before)

	amountExp, refundedExp, rateExp int8
}

// currency is the booking's currency code ("" before completion) and exp its minor unit
// (R3 rounding).
func (b *book) currency() string { c, _ := schemas.CurrencyAt(b.cur); return c }
func (b *book) exp() int32       { _, e := schemas.CurrencyAt(b.cur); return e }

// announcedUnknown is book.announced of a booking restored from a version-1 changelog value,
// which did not keep it: every rate counts.
const announcedUnknown = math.MaxInt64

// inlineSeen is how many applied event hashes a book holds without an allocation: a
// booking's lifecycle is usually created, confirmed, completed and at most one refund or
// cancellation.
const inlineSeen = 4

const (
	bigAmount = 1 << iota
	bigRefunded
	bigRate
)

// bookExtra holds what does not fit a book's flat layout.
type bookExtra struct {
	id                     string   // when idKind == evLong; its bytes in idBuf when they fit
	seen                   []uint64 // hashes after the first inlineSeen
	amount, refunded, rate decimal.Decimal
	// idBuf holds a long id of up to len(idBuf) bytes, so that the id is not a heap object of
	// its own (BenchmarkBookedStateGCLongIDs). Written once, by setID: a book's id never
	// changes, and a string handed out of it stays valid.
	idBuf [40]byte
}

func (b *book) extra() *bookExtra {
	if b.x == nil {
		b.x = &bookExtra{}
	}
	return b.x
}

// newBook is a booking with id and provider and nothing applied yet.
func newBook(id, provider string) book {
	b := book{provider: provider}
	b.setID(id)
	return b
}

func (b *book) setID(id string) {
	if k, ok := packID(&b.id, id); ok {
		b.idKind = k
		return
	}
	b.idKind = evLong
	x := b.extra()
	if len(id) > len(x.idBuf) {
		x.id = strings.Clone(id)
		return
	}
	n := copy(x.idBuf[:], id)
	x.id = unsafe.String(&x.idBuf[0], n)
}

// idIs reports whether the booking's id is p (a packed query, see find).
func (b *book) idIs(p *packedID) bool {
	if b.idKind != p.kind || b.id != p.b {
		return false
	}
	return p.kind != evLong || b.x.id == p.long
}

// idString returns the booking id.
func (b *book) idString() string {
	if b.idKind == evLong {
		return b.x.id
	}
	var buf [36]byte
	return string(appendPacked(buf[:0], &b.id, b.idKind))
}

// idLen is the length of the booking id in bytes.
func (b *book) idLen() int {
	switch b.idKind {
	case evLong:
		return len(b.x.id)
	case evUUIDLower, evUUIDUpper:
		return 36
	}
	return int(b.idKind)
}

// appendID appends the booking id to dst.
func (b *book) appendID(dst []byte) []byte {
	if b.idKind == evLong {
		return append(dst, b.x.id...)
	}
	return appendPacked(dst, &b.id, b.idKind)
}

// addSeen records the hash of an applied event.
func (b *book) addSeen(h uint64) {
	if int(b.nseen) < inlineSeen {
		b.seen[b.nseen] = h
		b.nseen++
		return
	}
	x := b.extra()
	x.seen = append(x.seen, h)
}

func (b *book) seenEvent(h uint64) bool {
	for _, v := range b.seen[:b.nseen] {
		if v == h {
			return true
		}
	}
	if b.x != nil {
		for _, v := range b.x.seen {
			if v == h {
				return true
			}
		}
	}
	return false
}

// seenCount is the number of applied event hashes; eachSeen walks them in the order applied.
func (b *book) seenCount() int {
	n := int(b.nseen)
	if b.x != nil {
		n += len(b.x.seen)
	}
	return n
}

func (b *book) eachSeen(f func(uint64)) {
	for _, v := range b.seen[:b.nseen] {
		f(v)
	}
	if b.x != nil {
		for _, v := range b.x.seen {
			f(v)
		}
	}
}

// splitDecimal is d as an int64 coefficient and an int8 exponent, when it has them, else when
// its text form has them. The changelog writes a decimal that does not fit as its text
// (appendDecimal), and the text drops trailing zeros of a fraction and writes an integer without
// exponent. So a value that fits only in that form, say 1762290434604843450e-25, must be kept
// in that form; otherwise its restored state would encode differently from the state it was
// written from. Found by FuzzUnmarshalBinary; never taken by validated amounts, which fit.
func splitDecimal(d decimal.Decimal) (c int64, e int8, ok bool) {
	if c, e, ok = fitDecimal(d); ok {
		return c, e, true
	}
	t, err := decimal.NewFromString(d.String())
	if err != nil {
		return 0, 0, false
	}
	return fitDecimal(t)
}

// fitDecimal is d's own coefficient and exponent, when they fit an int64 and an int8.
func fitDecimal(d decimal.Decimal) (c int64, e int8, ok bool) {
	x := d.Exponent()
	if x < math.MinInt8 || x > math.MaxInt8 || d.NumDigits() > 18 {
		return 0, 0, false
	}
	return d.CoefficientInt64(), int8(x), true
}

// setDecimal stores d in *c, *e, or behind x (flag set in b.big) when it does not fit.
func (b *book) setDecimal(d decimal.Decimal, c *int64, e *int8, flag uint8) {
	if v, x, ok := splitDecimal(d); ok {
		*c, *e = v, x
		if b.big&flag != 0 {
			b.big &^= flag
			*b.x.big(flag) = decimal.Decimal{}
		}
		return
	}
	*c, *e = 0, 0
	b.big |= flag
	*b.extra().big(flag) = d
}

// big is the decimal of flag kept behind x.
func (x *bookExtra) big(flag uint8) *decimal.Decimal {
	switch flag {
	case bigAmount:
		return &x.amount
	case bigRefunded:
		return &x.refunded
	}
	return &x.rate
}

// decimalOf is the decimal of flag: behind x when big, else c×10^e (the zero value for 0, 0).
func (b *book) decimalOf(flag uint8, c int64, e int8) decimal.Decimal {
	switch {
	case b.big&flag != 0:
		return *b.x.big(flag)
	case c == 0 && e == 0:
		return decimal.Decimal{}
	}
	return decimal.New(c, int32(e))
}

func (b *book) setAmount(d decimal.Decimal) { b.setDecimal(d, &b.amount, &b.amountExp, bigAmount) }
func (b *book) setRefunded(d decimal.Decimal) {
	b.setDecimal(d, &b.refunded, &b.refundedExp, bigRefunded)
}
func (b *book) setRate(d decimal.Decimal) { b.setDecimal(d, &b.rate, &b.rateExp, bigRate) }

func (b *book) amountDec() decimal.Decimal { return b.decimalOf(bigAmount, b.amount, b.amountExp) }
func (b *book) refundedDec() decimal.Decimal {
	return b.decimalOf(bigRefunded, b.refunded, b.refundedExp)
}
func (b *book) rateDec() decimal.Decimal { return b.decimalOf(bigRate, b.rate, b.rateExp) }

// kept is what the booking's owner keeps now (R3): round((amount − refunded) × rate), in
// int64 when the booking's numbers allow (mulRoundInt), else with decimals.
func (b *book) kept() decimal.Decimal {
	if b.owner == "" || !b.done || b.status == schemas.StatusCancelled {
		return decimal.Decimal{}
	}
	if b.big == 0 {
		if left, le, ok := subInt(b.amount, b.amountExp, b.refunded, b.refundedExp); ok {
			if q, ok := mulRoundInt(left, int32(le), b.rate, int32(b.rateExp), b.exp()); ok {
				return decimal.New(q, -b.exp())
			}
		}
	}
	left := b.amountDec()
	if r := b.refundedDec(); !r.IsZero() {
		left = left.Sub(r)
	}
	return mulRound(left, b.rateDec(), b.exp())
}
