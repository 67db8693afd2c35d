package schemas

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Bounds are the limits of SPEC R8 that hostile or broken producers must not cross. They are
// the one validation of input values: the decoders (Bounds.DecodeBooking and the others; the
// package-level Decode* functions use the defaults), the rules (pipelines/commission checks the
// typed values it is handed with CheckBooking, CheckEnrollment, CheckBusiness) and the sink
// all call the helpers of this file, so every component refuses exactly the same records.
//
// The zero value means the defaults. Bounds are fixed per deployment (flags / TASKOLE_*
// variables), never derived from the wall clock, so a replay judges alike.
type Bounds struct {
	MinTime time.Time // earliest valid event time (inclusive); zero → 1970-01-01T00:00:00Z
	MaxTime time.Time // latest valid event time (exclusive); zero → 2200-01-01T00:00:00Z
	// MaxUnits is the largest amount in currency units (zero → 10^12).
	MaxUnits int64
	// RatePlaces is the number of decimals a referral_rate may have (zero → 6).
	RatePlaces int32
	// MaxIDBytes is the longest id, key or text field in bytes (zero → 256).
	MaxIDBytes int
}

// Defaults of Bounds.
var (
	DefaultMinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	DefaultMaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Defaults of Bounds.
const (
	DefaultMaxUnits   = 1_000_000_000_000
	DefaultRatePlaces = 6
	DefaultMaxIDBytes = 256
)

// TimeSlack is how far past the event-time bounds the pipeline may compute times: the hold
// period, the horizon, payout periods and their close delay all stay within it. Validate
// refuses bounds for which [MinTime − TimeSlack, MaxTime + TimeSlack] would not fit int64
// nanoseconds since 1970 (years 1677–2262), so a time in state never wraps.
const TimeSlack = 20 * 365 * 24 * time.Hour

// WithDefaults returns b with every zero field replaced by its default.
func (b Bounds) WithDefaults() Bounds {
	if b.MinTime.IsZero() {
		b.MinTime = DefaultMinTime
	}
	if b.MaxTime.IsZero() {
		b.MaxTime = DefaultMaxTime
	}
	b.MaxUnits = cmp.Or(b.MaxUnits, DefaultMaxUnits)
	b.RatePlaces = cmp.Or(b.RatePlaces, DefaultRatePlaces)
	b.MaxIDBytes = cmp.Or(b.MaxIDBytes, DefaultMaxIDBytes)
	b.MinTime, b.MaxTime = b.MinTime.UTC(), b.MaxTime.UTC()
	return b
}

// Validate checks b (after defaults): a non-empty time range whose times, widened by
// TimeSlack, fit int64 Unix nanoseconds; amounts whose minor units fit int64 for every
// currency (at most 10^14 units); at most 18 rate decimals; ids of 1 to 65536 bytes.
func (b Bounds) Validate() error {
	b = b.WithDefaults()
	lo, hi := time.Unix(0, math.MinInt64).UTC(), time.Unix(0, math.MaxInt64).UTC()
	switch {
	case !b.MinTime.Before(b.MaxTime):
		return errors.New("bounds: the earliest event time must be before the latest")
	case b.MinTime.Add(-TimeSlack).Before(lo) || b.MaxTime.Add(TimeSlack).After(hi):
		return fmt.Errorf("bounds: event times must lie within [%s, %s] (int64 nanoseconds less %s of slack for hold, horizon and periods)",
			lo.Add(TimeSlack).Format(time.RFC3339), hi.Add(-TimeSlack).Format(time.RFC3339), TimeSlack)
	case b.MaxUnits < 0 || b.MaxUnits > 100_000_000_000_000:
		return errors.New("bounds: the largest amount must be in (0, 10^14] currency units")
	case b.RatePlaces < 0 || b.RatePlaces > 18:
		return errors.New("bounds: rate decimals must be in [0, 18]")
	case b.MaxIDBytes < 0 || b.MaxIDBytes > 65536:
		return errors.New("bounds: the longest id must be in [1, 65536] bytes")
	}
	return nil
}

// ParseTime parses an RFC 3339 time for a flag of Bounds ("" is the zero time: the default).
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := parseTime([]byte(s))
	if !ok {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time with zone: %s", Quote([]byte(s)))
	}
	return t, nil
}

// ---- the checks; each returns "" when the value is within bounds, else the reason ----

// idReason checks an id, key or text field: at most MaxIDBytes bytes of UTF-8 without
// control characters (C0, DEL, C1); empty only when optional.
func idReason[T ~string | ~[]byte](maxBytes int, s T, optional bool) string {
	switch {
	case len(s) == 0:
		if optional {
			return ""
		}
		return "empty"
	case len(s) > maxBytes:
		return "longer than " + strconv.Itoa(maxBytes) + " bytes (" + strconv.Itoa(len(s)) + " bytes)"
	}
	if printableASCII(s) {
		return "" // the common case, without decoding runes
	}
	for _, r := range string(s) {
		if r == utf8.RuneError {
			if !utf8.ValidString(string(s)) {
				return "not valid UTF-8"
			}
		}
		if unicode.IsControl(r) {
			return "contains a control character (" + strconv.QuoteRune(r) + ")"
		}
	}
	return ""
}

// printableASCII reports whether s is all printable ASCII (0x20–0x7e): valid UTF-8 without a
// control character, decided byte by byte.
func printableASCII[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// timeReason checks an event time against [MinTime, MaxTime).
func (b *Bounds) timeReason(t time.Time) string {
	if t.Before(b.MinTime) || !t.Before(b.MaxTime) {
		return "outside [" + b.MinTime.Format(time.RFC3339Nano) + ", " + b.MaxTime.Format(time.RFC3339Nano) + ")"
	}
	return ""
}

// unitsReason checks that |d| is at most MaxUnits currency units.
func (b *Bounds) unitsReason(d decimal.Decimal) string {
	// integer digits of d, from its coefficient's digits and exponent (no allocation)
	intDigits := d.NumDigits() + int(d.Exponent())
	maxDigits := 1
	for n := b.MaxUnits; n >= 10; n /= 10 {
		maxDigits++
	}
	if intDigits < maxDigits || d.IsZero() {
		return ""
	}
	if intDigits > maxDigits || d.Abs().GreaterThan(decimal.NewFromInt(b.MaxUnits)) {
		return "more than " + strconv.FormatInt(b.MaxUnits, 10) + " currency units"
	}
	return ""
}

// placesReason checks that d has at most places decimals (trailing zeros do not count).
func placesReason(d decimal.Decimal, places int32, what string) string {
	if d.Exponent() >= -places || d.Equal(d.Truncate(places)) {
		return ""
	}
	return "more decimal places than " + what + " allows (" + strconv.Itoa(int(places)) + ")"
}

// rateReason checks a referral rate: a fraction in [0, 1] with at most RatePlaces decimals.
func (b *Bounds) rateReason(d decimal.Decimal) string {
	switch {
	case d.Sign() < 0:
		return "negative (a rate is a fraction in [0, 1])"
	case d.GreaterThan(decimal.NewFromInt(1)):
		return "greater than 1 (a rate is a fraction in [0, 1])"
	}
	return placesReason(d, b.RatePlaces, "a referral rate")
}

// amountReason checks an amount of the given currency: at most its minor-unit decimals and
// at most MaxUnits units.
func (b *Bounds) amountReason(d decimal.Decimal, currency string) string {
	if r := b.unitsReason(d); r != "" {
		return r
	}
	if minor, ok := MinorUnit(currency); ok {
		return placesReason(d, minor, currency)
	}
	return ""
}

// ---- typed checks, for values that did not come through a decoder ----

type check struct {
	b   Bounds
	err *InvalidError
}

// newCheck is a check against b with its defaults.
func newCheck(b Bounds) check { return check{b: b.WithDefaults()} }

func (c *check) id(field, s string, optional bool) {
	if c.err == nil {
		if r := idReason(c.b.MaxIDBytes, s, optional); r != "" {
			c.err = fieldErr(field, codeInvalid, r)
		}
	}
}

func (c *check) time(field string, t time.Time) {
	if c.err == nil {
		if r := c.b.timeReason(t); r != "" {
			c.err = fieldErr(field, codeRange, r)
		}
	}
}

func (c *check) amount(field string, d decimal.Decimal, currency string) {
	if c.err == nil {
		if r := c.b.amountReason(d, currency); r != "" {
			c.err = fieldErr(field, codeRange, r)
		}
	}
}

func (c *check) result() error {
	if c.err != nil {
		return c.err
	}
	return nil
}

// CheckEnrollment checks an enrollment's ids and time against b (a *InvalidError when out).
func (b Bounds) CheckEnrollment(v Enrollment) error {
	c := newCheck(b)
	c.id("event_id", v.EventID, false)
	c.id("client_id", v.ClientID, false)
	c.id("business_id", v.BusinessID, false)
	c.id("source", v.Source, true)
	c.time("occurred_at", v.OccurredAt)
	return c.result()
}

// CheckBooking checks a booking's ids, time and amounts against b (a *InvalidError when out).
func (b Bounds) CheckBooking(v Booking) error {
	c := newCheck(b)
	c.id("event_id", v.EventID, false)
	c.id("booking_id", v.BookingID, false)
	c.id("client_id", v.ClientID, false)
	c.id("business_id", v.BusinessID, false)
	c.amount("amount", v.Amount, v.Currency)
	c.amount("refund_amount", v.RefundAmount, v.Currency)
	c.id("category", v.Category, true)
	c.time("occurred_at", v.OccurredAt)
	return c.result()
}

// CheckBusiness checks a businesses event's ids, rate and time against b (a *InvalidError when out).
func (b Bounds) CheckBusiness(v Business) error {
	c := newCheck(b)
	c.id("event_id", v.EventID, false)
	c.id("business_id", v.BusinessID, false)
	c.id("name", v.Name, true) // required by the contract (the decoder); the rates do not need it
	c.id("sector", v.Sector, true)
	if c.err == nil {
		if r := c.b.rateReason(v.ReferralRate); r != "" {
			c.err = fieldErr("referral_rate", codeRange, r)
		}
	}
	c.time("occurred_at", v.OccurredAt)
	return c.result()
}

// CheckKey checks a record key: like an id, 1 to MaxIDBytes bytes of UTF-8 without control
// characters. The reason quotes at most a bounded prefix of the key.
func (b Bounds) CheckKey(key []byte) error {
	b = b.WithDefaults()
	if r := idReason(b.MaxIDBytes, key, false); r != "" {
		return fieldErr("key", codeInvalid, "record key "+Quote(key)+": "+r)
	}
	return nil
}

// QuoteLimit is how many bytes of a value Quote shows.
const QuoteLimit = 64

// Quote quotes a (possibly hostile) value or key for an error message or a log line: at most
// QuoteLimit bytes of it, followed by "…(N bytes)" when it is longer.
func Quote(b []byte) string {
	if len(b) <= QuoteLimit {
		return strconv.Quote(string(b))
	}
	cut := QuoteLimit
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + "…(" + strconv.Itoa(len(b)) + " bytes)"
}
