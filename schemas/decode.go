package schemas

// JSON approach, chosen by measurement (bench_test.go, a 353-byte booking with two extra
// producer fields; go test -run='^$' -bench='Decode' -benchmem -count=5 ./schemas/ on the
// shared 2-core Xeon dev box under heavy load, so absolute figures are pessimistic and noisy;
// cpu-ns/op is the process's CPU time per decode, from getrusage, steadier than ns/op):
//
//	                                              ns/op        cpu-ns/op    B/op  allocs
//	DecodeBooking, single-pass scanner (scan.go)  1240–1706    1165–1544    152    3
//	  (the scan alone: ~740 cpu-ns, 0 allocs)
//	former decoder, fastjson validate + parse     2488–3678    2365–2716    176    7
//	  (decode_fastjson_test.go)
//	encoding/json into an intermediate struct     7151–11128   6987–9799    856   27
//
// (load average 15–20 on 2 cores during that run: ~2x less CPU than the fastjson decoder
// in the same run.)
//
// The decoders scan each record once (scan.go): the pass checks the JSON syntax as strictly
// as fastjson's validator did and records where each contract field's value lies; the
// readers below then check the fields in contract order, so the first failing field in that
// order is the one reported. No reflection, no intermediate tree. A booking costs three
// allocations: one buffer shared by its id and text strings (see reader.keep), and the
// amount's big.Int (decimal.New from an int64 coefficient when the digits fit, otherwise
// decimal.NewFromString); the currency is interned from the ISO 4217 table and times are
// parsed from the bytes. fastjson is still used to word the error of a malformed record, so
// that the "json:malformed" reasons read exactly as before; valid records never touch it.
// The former decoder lives on in decode_fastjson_test.go, and diff_test.go fuzzes the two
// against each other (same event, or same InvalidError field, label and text).

import (
	"encoding/base64"
	"math"
	"math/bits"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/valyala/fastjson/fastfloat"
)

// maxFields bounds the number of contract fields of one event type.
const maxFields = 16

// maxNumberText caps the length of a decimal string, so that a hostile record cannot make
// the decoder build a huge big.Int. 40 characters hold any Decimal(38, s) value.
const maxNumberText = 40

// reader holds the contract fields of one JSON object, found by parse (scan.go), and the
// first error. Its methods read one field each and do nothing after the first error, so a
// decoder reads straight down the field list (the contract order, which is therefore the
// order in which errors are reported) and checks r.err once.
type reader struct {
	names []string
	fs    *fields
	vals  [maxFields]value
	err   *InvalidError
	buf   []byte // backs the text fields' strings; see keep
	bd    Bounds // the bounds of input events (with defaults), when bounded
	// bounded is set for input events; the pipeline's own outputs are not judged by bounds
	bounded bool
}

func (r *reader) fail(i int, code, reason string) {
	if r.err == nil {
		r.err = fieldErr(r.names[i], code, reason)
	}
}

// str returns the raw bytes of string field i; ok is false when it is absent or on error.
func (r *reader) str(i int, required bool) (b []byte, ok bool) {
	if r.err != nil {
		return nil, false
	}
	v := &r.vals[i]
	if v.kind == kindAbsent {
		if required {
			r.fail(i, codeMissing, "required")
		}
		return nil, false
	}
	if v.kind != kindString {
		r.fail(i, codeType, "not a string (got "+v.kind.String()+")")
		return nil, false
	}
	b = v.raw
	if v.esc {
		b = unescape(nil, b)
	}
	if !utf8.Valid(b) {
		r.fail(i, codeInvalid, "not valid UTF-8")
		return nil, false
	}
	return b, true
}

// id reads a required, non-empty string.
func (r *reader) id(i int) string {
	b, ok := r.str(i, true)
	if !ok {
		return ""
	}
	if len(b) == 0 {
		r.fail(i, codeInvalid, "empty")
		return ""
	}
	if r.bounded {
		if reason := idReason(r.bd.MaxIDBytes, b, false); reason != "" {
			r.fail(i, codeInvalid, reason)
			return ""
		}
	}
	return r.keep(i, b)
}

// optID reads an optional id: absent reads as "", present it is read as id (non-empty).
func (r *reader) optID(i int) string {
	if r.err != nil || r.vals[i].kind == kindAbsent {
		return ""
	}
	return r.id(i)
}

// text reads an optional string; absent reads as "".
func (r *reader) text(i int) string {
	b, ok := r.str(i, false)
	if !ok {
		return ""
	}
	if r.bounded {
		if reason := idReason(r.bd.MaxIDBytes, b, true); reason != "" {
			r.fail(i, codeInvalid, reason)
			return ""
		}
	}
	return r.keep(i, b)
}

// keep returns b, the value of text field i, as a string. The text fields of one record
// share one allocation, sized on first use to hold them all (fields.text), so a record
// costs one string allocation however many ids it has; an escaped value was decoded into a
// fresh buffer and is used as it is. The buffer is only appended to, so the strings handed
// out are never written again.
func (r *reader) keep(i int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if r.vals[i].esc {
		return unsafeString(b)
	}
	if cap(r.buf)-len(r.buf) < len(b) {
		n := 0
		for m := r.fs.text; m != 0; m &= m - 1 {
			if v := &r.vals[bits.TrailingZeros32(m)]; v.kind == kindString && !v.esc {
				n += len(v.raw)
			}
		}
		r.buf = make([]byte, 0, max(n, len(b)))
	}
	start := len(r.buf)
	r.buf = append(r.buf, b...)
	return unsafeString(r.buf[start:])
}

// enum reads a string that must be one of values; absent reads as "" (an error if required).
func (r *reader) enum(i int, required bool, values ...string) string {
	b, ok := r.str(i, required)
	if !ok {
		return ""
	}
	for _, v := range values {
		if v == string(b) {
			return v
		}
	}
	r.fail(i, codeInvalid, "unknown value "+quoteValue(b))
	return ""
}

// money is a decoded decimal string and the number of decimal places it needs (its written
// places without trailing zeros).
type money struct {
	d      decimal.Decimal
	places int32
	ok     bool // present and valid
}

// money reads a decimal string: digits, an optional fraction, a leading minus only when
// signed; no exponent, no leading zeros, no JSON numbers.
func (r *reader) money(i int, required, signed bool) money {
	if k := r.vals[i].kind; r.err == nil && k != kindAbsent && k != kindString {
		// the commonest producer mistake: a JSON number for money
		r.fail(i, codeType, "not a decimal string (got "+k.String()+")")
	}
	b, ok := r.str(i, required)
	if !ok {
		return money{}
	}
	if len(b) > maxNumberText {
		r.fail(i, codeInvalid, "decimal string longer than 40 characters")
		return money{}
	}
	places, ok := scanDecimal(b, signed)
	if !ok {
		if !signed && len(b) > 0 && b[0] == '-' {
			r.fail(i, codeInvalid, "negative")
		} else {
			r.fail(i, codeInvalid, "not a decimal string")
		}
		return money{}
	}
	d, ok := smallDecimal(b)
	if !ok {
		var err error
		if d, err = decimal.NewFromString(unsafeString(b)); err != nil { // unreachable after scanDecimal
			r.fail(i, codeInvalid, "not a decimal string")
			return money{}
		}
	}
	if r.bounded {
		if reason := r.bd.unitsReason(d); reason != "" {
			r.fail(i, codeRange, reason)
			return money{}
		}
	}
	return money{d: d, places: places, ok: true}
}

// smallDecimal builds the decimal of b, which scanDecimal accepted, when its digits fit in
// an int64: the same value and exponent decimal.NewFromString gives, without its work.
func smallDecimal(b []byte) (decimal.Decimal, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 19 { // at most 18 digits and a point
		return decimal.Decimal{}, false
	}
	var n int64
	var exp int32
	digits := 0
	for k, c := range b {
		if c == '.' {
			exp = -int32(len(b) - k - 1)
			continue
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	if digits > 18 {
		return decimal.Decimal{}, false
	}
	if neg {
		n = -n
	}
	return decimal.New(n, exp), true
}

// scanDecimal checks b against ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ (the minus only when signed)
// and returns the number of fraction digits without trailing zeros.
func scanDecimal(b []byte, signed bool) (places int32, ok bool) {
	i := 0
	if signed && len(b) > 0 && b[0] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || (b[start] == '0' && i-start > 1) {
		return 0, false
	}
	if i == len(b) {
		return 0, true
	}
	if b[i] != '.' {
		return 0, false
	}
	i++
	fstart := i
	last := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if b[i] != '0' {
			last = i + 1
		}
		i++
	}
	if i == fstart || i != len(b) {
		return 0, false
	}
	return int32(last - fstart), true
}

// rate reads a fraction in [0, 1] written as a decimal string.
func (r *reader) rate(i int) decimal.Decimal {
	m := r.money(i, true, false)
	if !m.ok {
		return decimal.Decimal{}
	}
	if m.d.GreaterThan(decimal.NewFromInt(1)) {
		r.fail(i, codeInvalid, "greater than 1 (a rate is a fraction in [0, 1])")
	} else if r.bounded && m.places > r.bd.RatePlaces {
		r.fail(i, codeRange, "more decimal places than a referral rate allows ("+itoa(int(r.bd.RatePlaces))+")")
	}
	return m.d
}

// currency reads an ISO 4217 code.
func (r *reader) currency(i int, required bool) (currency, bool) {
	b, ok := r.str(i, required)
	if !ok {
		return currency{}, false
	}
	if len(b) != 3 || !isUpper(b[0]) || !isUpper(b[1]) || !isUpper(b[2]) {
		r.fail(i, codeInvalid, "not a three-letter upper-case currency code: "+quoteValue(b))
		return currency{}, false
	}
	c, ok := lookupCurrency(b)
	if !ok {
		r.fail(i, codeInvalid, "not a known ISO 4217 currency: "+quoteValue(b))
		return currency{}, false
	}
	return c, true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// checkPlaces rejects an amount that needs more decimal places than its currency has.
func (r *reader) checkPlaces(i int, m money, c currency) {
	if m.ok && m.places > c.minor {
		r.fail(i, codeInvalid, "more decimal places than "+c.code+" allows ("+itoa(int(c.minor))+")")
	}
}

// time reads an RFC 3339 timestamp with zone and returns it in UTC.
func (r *reader) time(i int, required bool) time.Time {
	b, ok := r.str(i, required)
	if !ok {
		return time.Time{}
	}
	t, ok := parseTime(b)
	if !ok {
		r.fail(i, codeInvalid, "not an RFC 3339 time with zone: "+quoteValue(b))
		return time.Time{}
	}
	if y := t.Year(); y < 1 || y > 9999 {
		r.fail(i, codeInvalid, "outside years 0001-9999 in UTC")
		return time.Time{}
	}
	if r.bounded {
		if reason := r.bd.timeReason(t); reason != "" {
			r.fail(i, codeRange, reason)
			return time.Time{}
		}
	}
	return t
}

// parseTime parses YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) exactly (upper-case T and Z, no
// leap second) into UTC without allocating. Fraction digits beyond nanoseconds are truncated.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		scale := 100000000
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			nsec += int(rest[n]-'0') * scale
			scale /= 10
			n++
		}
		if n == 1 {
			return time.Time{}, false
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// integer reads a JSON number that must be an integer in [lo, hi]. Like JSON Schema's
// "integer", 7.0 counts as an integer.
func (r *reader) integer(i int, required bool, lo, hi int64) (int64, bool) {
	if r.err != nil {
		return 0, false
	}
	v := &r.vals[i]
	if v.kind == kindAbsent {
		if required {
			r.fail(i, codeMissing, "required")
		}
		return 0, false
	}
	if v.kind != kindNumber {
		r.fail(i, codeType, "not an integer (got "+v.kind.String()+")")
		return 0, false
	}
	n, err := fastfloat.ParseInt64(unsafeString(v.raw))
	if err != nil {
		f, ferr := fastfloat.Parse(unsafeString(v.raw))
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			r.fail(i, codeInvalid, "not an integer")
			return 0, false
		}
		n = int64(f)
	}
	if n < lo || n > hi {
		r.fail(i, codeInvalid, "out of range ["+itoa(int(lo))+", "+itoa(int(hi))+"]")
		return 0, false
	}
	return n, true
}

// bytes reads a base64 string or null (a Kafka key or value; null is a null key/value).
func (r *reader) bytes(i int) []byte {
	if r.err != nil {
		return nil
	}
	v := &r.vals[i]
	if v.kind == kindAbsent {
		r.fail(i, codeMissing, "required (null for none)")
		return nil
	}
	if v.kind == kindNull {
		return nil
	}
	b, ok := r.str(i, true)
	if !ok {
		return nil
	}
	for _, c := range b {
		if c == '\r' || c == '\n' { // the decoder would skip them; the contract does not
			r.fail(i, codeInvalid, "not standard base64")
			return nil
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Strict().Decode(out, b)
	if err != nil {
		r.fail(i, codeInvalid, "not standard base64")
		return nil
	}
	return out[:n]
}

// stringArray reads an optional array of non-empty strings; absent or empty reads as nil.
func (r *reader) stringArray(i int) []string {
	if r.err != nil || r.vals[i].kind == kindAbsent {
		return nil
	}
	v := &r.vals[i]
	if v.kind != kindArray {
		r.fail(i, codeType, "not an array (got "+v.kind.String()+")")
		return nil
	}
	// v.raw is a whole array that parse checked, so it is walked without checks.
	b := v.raw
	j := skipWS(b, 1)
	if b[j] == ']' {
		return nil
	}
	var out []string
	for k := 0; ; k++ {
		j = skipWS(b, j)
		if b[j] != '"' {
			r.fail(i, codeType, "element "+itoa(k)+" is not a string")
			return nil
		}
		end, esc, _ := scanString(b, j+1)
		s := b[j+1 : end]
		if esc {
			s = unescape(nil, s)
		}
		if len(s) == 0 || !utf8.Valid(s) {
			r.fail(i, codeInvalid, "element "+itoa(k)+" is empty or not UTF-8")
			return nil
		}
		out = append(out, string(s))
		if j = skipWS(b, end+1); b[j] == ']' {
			return out
		}
		j++ // ','
	}
}

func itoa(n int) string {
	var buf [20]byte
	return string(appendInt(buf[:0], int64(n)))
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, '-')
		if n == math.MinInt64 {
			return append(dst, "9223372036854775808"...)
		}
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// ---- inputs ----

const (
	enEventID = iota
	enClientID
	enBusinessID
	enSource
	enOccurredAt
)

var enrollmentFields = newFields("event_id", "client_id", "business_id", "source", "occurred_at").withText(enEventID, enClientID, enBusinessID)

// DecodeEnrollment decodes and validates a taskole.enrollments.v1 value.
func DecodeEnrollment(data []byte) (Enrollment, error) { return Bounds{}.DecodeEnrollment(data) }

// DecodeEnrollment is the package-level DecodeEnrollment under bounds b.
func (b Bounds) DecodeEnrollment(data []byte) (Enrollment, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, enrollmentFields) {
		return Enrollment{}, r.err
	}
	v := Enrollment{
		EventID:    r.id(enEventID),
		ClientID:   r.id(enClientID),
		BusinessID: r.id(enBusinessID),
		Source:     r.enum(enSource, false, "import", "invite", "qr"),
		OccurredAt: r.time(enOccurredAt, true),
	}
	if r.err != nil {
		return Enrollment{}, r.err
	}
	return v, nil
}

const (
	bkEventID = iota
	bkBookingID
	bkClientID
	bkBusinessID
	bkStatus
	bkAmount
	bkCurrency
	bkRefundAmount
	bkCategory
	bkOccurredAt
)

var bookingFields = newFields("event_id", "booking_id", "client_id", "business_id", "status",
	"amount", "currency", "refund_amount", "category", "occurred_at").withText(bkEventID, bkBookingID, bkClientID, bkBusinessID, bkCategory)

var statusNames = [...]string{
	StatusCreated:   "created",
	StatusConfirmed: "confirmed",
	StatusCompleted: "completed",
	StatusCancelled: "cancelled",
	StatusRefunded:  "refunded",
}

// String returns the wire name of s ("completed"), or "unknown".
func (s Status) String() string {
	if s > StatusUnknown && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

func (r *reader) status(i int) Status {
	b, ok := r.str(i, true)
	if !ok {
		return StatusUnknown
	}
	for s := StatusCreated; int(s) < len(statusNames); s++ {
		if statusNames[s] == string(b) {
			return s
		}
	}
	r.fail(i, codeInvalid, "unknown status "+quoteValue(b))
	return StatusUnknown
}

// DecodeBooking decodes and validates a taskole.bookings.v1 value. amount and currency are
// required, and amount must be positive, when status is completed; refund_amount is required
// and positive when status is refunded; currency is required whenever an amount is present;
// an amount may not need more decimal places than its currency's minor unit.
func DecodeBooking(data []byte) (Booking, error) { return Bounds{}.DecodeBooking(data) }

// DecodeBooking is the package-level DecodeBooking under bounds b.
func (b Bounds) DecodeBooking(data []byte) (Booking, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, bookingFields) {
		return Booking{}, r.err
	}
	v := Booking{
		EventID:    r.id(bkEventID),
		BookingID:  r.id(bkBookingID),
		ClientID:   r.id(bkClientID),
		BusinessID: r.id(bkBusinessID),
		Status:     r.status(bkStatus),
	}
	amount := r.money(bkAmount, false, false)
	cur, hasCur := r.currency(bkCurrency, false)
	refund := r.money(bkRefundAmount, false, false)
	v.Category = r.text(bkCategory)
	v.OccurredAt = r.time(bkOccurredAt, true)
	switch v.Status {
	case StatusCompleted:
		if !amount.ok {
			r.fail(bkAmount, codeMissing, "required when status is completed")
		} else if amount.d.Sign() <= 0 {
			r.fail(bkAmount, codeInvalid, "must be greater than 0 when status is completed")
		}
	case StatusRefunded:
		if !refund.ok {
			r.fail(bkRefundAmount, codeMissing, "required when status is refunded")
		} else if refund.d.Sign() <= 0 {
			r.fail(bkRefundAmount, codeInvalid, "must be greater than 0 when status is refunded")
		}
	}
	if (amount.ok || refund.ok) && !hasCur {
		r.fail(bkCurrency, codeMissing, "required when amount or refund_amount is present")
	}
	if hasCur {
		r.checkPlaces(bkAmount, amount, cur)
		r.checkPlaces(bkRefundAmount, refund, cur)
	}
	if r.err != nil {
		return Booking{}, r.err
	}
	v.Amount, v.Currency, v.RefundAmount = amount.d, cur.code, refund.d
	return v, nil
}

const (
	buEventID = iota
	buBusinessID
	buName
	buSector
	buReferralRate
	buOccurredAt
)

var businessFields = newFields("event_id", "business_id", "name", "sector", "referral_rate", "occurred_at").withText(buEventID, buBusinessID, buName, buSector)

// DecodeBusiness decodes and validates a taskole.businesses.v1 value.
func DecodeBusiness(data []byte) (Business, error) { return Bounds{}.DecodeBusiness(data) }

// DecodeBusiness is the package-level DecodeBusiness under bounds b.
func (b Bounds) DecodeBusiness(data []byte) (Business, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, businessFields) {
		return Business{}, r.err
	}
	v := Business{
		EventID:      r.id(buEventID),
		BusinessID:   r.id(buBusinessID),
		Name:         r.id(buName),
		Sector:       r.id(buSector),
		ReferralRate: r.rate(buReferralRate),
		OccurredAt:   r.time(buOccurredAt, true),
	}
	if r.err != nil {
		return Business{}, r.err
	}
	return v, nil
}

const (
	fbEventID = iota
	fbClientID
	fbBusinessID
	fbKind
	fbScore
	fbOccurredAt
)

var feedbackFields = newFields("event_id", "client_id", "business_id", "kind", "score", "occurred_at").withText(fbEventID, fbClientID, fbBusinessID)

// DecodeFeedback decodes and validates a taskole.feedback.v1 value: score is an integer in
// 0–10 for nps and 1–5 for csat.
func DecodeFeedback(data []byte) (Feedback, error) { return Bounds{}.DecodeFeedback(data) }

// DecodeFeedback is the package-level DecodeFeedback under bounds b.
func (b Bounds) DecodeFeedback(data []byte) (Feedback, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, feedbackFields) {
		return Feedback{}, r.err
	}
	v := Feedback{
		EventID:    r.id(fbEventID),
		ClientID:   r.id(fbClientID),
		BusinessID: r.id(fbBusinessID),
		Kind:       FeedbackKind(r.enum(fbKind, true, string(FeedbackNPS), string(FeedbackCSAT))),
	}
	lo, hi := int64(0), int64(10)
	if v.Kind == FeedbackCSAT {
		lo, hi = 1, 5
	}
	score, _ := r.integer(fbScore, true, lo, hi)
	v.Score = int(score)
	v.OccurredAt = r.time(fbOccurredAt, true)
	if r.err != nil {
		return Feedback{}, r.err
	}
	return v, nil
}

const (
	acEventID = iota
	acBusinessID
	acAmount
	acCurrency
	acChannel
	acOccurredAt
)

var acquisitionCostFields = newFields("event_id", "business_id", "amount", "currency", "channel", "occurred_at").withText(acEventID, acBusinessID, acChannel)

// DecodeAcquisitionCost decodes and validates a taskole.acquisition-costs.v1 value.
func DecodeAcquisitionCost(data []byte) (AcquisitionCost, error) {
	return Bounds{}.DecodeAcquisitionCost(data)
}

// DecodeAcquisitionCost is the package-level DecodeAcquisitionCost under bounds b.
func (b Bounds) DecodeAcquisitionCost(data []byte) (AcquisitionCost, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, acquisitionCostFields) {
		return AcquisitionCost{}, r.err
	}
	v := AcquisitionCost{
		EventID:    r.id(acEventID),
		BusinessID: r.id(acBusinessID),
	}
	amount := r.money(acAmount, true, false)
	cur, _ := r.currency(acCurrency, true)
	v.Channel = r.text(acChannel)
	v.OccurredAt = r.time(acOccurredAt, true)
	r.checkPlaces(acAmount, amount, cur)
	if r.err != nil {
		return AcquisitionCost{}, r.err
	}
	v.Amount, v.Currency = amount.d, cur.code
	return v, nil
}

const (
	rcEventID = iota
	rcBusinessID
	rcClientID
	rcAmount
	rcCurrency
	rcKind
	rcOccurredAt
)

var retentionCostFields = newFields("event_id", "business_id", "client_id", "amount", "currency", "kind", "occurred_at").withText(rcEventID, rcBusinessID, rcClientID)

// DecodeRetentionCost decodes and validates a taskole.retention-costs.v1 value. Its money
// follows the acquisition-costs rules; client_id is optional, but an id when present.
func DecodeRetentionCost(data []byte) (RetentionCost, error) {
	return Bounds{}.DecodeRetentionCost(data)
}

// DecodeRetentionCost is the package-level DecodeRetentionCost under bounds b.
func (b Bounds) DecodeRetentionCost(data []byte) (RetentionCost, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, retentionCostFields) {
		return RetentionCost{}, r.err
	}
	v := RetentionCost{
		EventID:    r.id(rcEventID),
		BusinessID: r.id(rcBusinessID),
		ClientID:   r.optID(rcClientID),
	}
	amount := r.money(rcAmount, true, false)
	cur, _ := r.currency(rcCurrency, true)
	v.Kind = RetentionKind(r.enum(rcKind, true, string(RetentionLoyaltyDiscount), string(RetentionFreeService),
		string(RetentionGuarantee), string(RetentionOther)))
	v.OccurredAt = r.time(rcOccurredAt, true)
	r.checkPlaces(rcAmount, amount, cur)
	if r.err != nil {
		return RetentionCost{}, r.err
	}
	v.Amount, v.Currency = amount.d, cur.code
	return v, nil
}

// ---- outputs ----

const (
	roClientID = iota
	roOwnerBusinessID
	roOwnedSince
	roSource
	roEventID
)

var referralOwnerFields = newFields("client_id", "owner_business_id", "owned_since", "source", "event_id").withText(roClientID, roOwnerBusinessID, roEventID)

// DecodeReferralOwner decodes and validates a taskole.referral-owners.v1 value.
func DecodeReferralOwner(data []byte) (ReferralOwner, error) {
	var r reader
	if !r.parse(data, referralOwnerFields) {
		return ReferralOwner{}, r.err
	}
	v := ReferralOwner{
		ClientID:        r.id(roClientID),
		OwnerBusinessID: r.id(roOwnerBusinessID),
		OwnedSince:      r.time(roOwnedSince, true),
		Source:          OwnerSource(r.enum(roSource, true, string(OwnerByEnrollment), string(OwnerByBooking))),
		EventID:         r.id(roEventID),
	}
	if r.err != nil {
		return ReferralOwner{}, r.err
	}
	return v, nil
}

const (
	cmCommissionID = iota
	cmKind
	cmReason
	cmOwnerBusinessID
	cmProviderBusinessID
	cmClientID
	cmBookingID
	cmBookingAmount
	cmRate
	cmAmount
	cmCurrency
	cmOccurredAt
	cmPayableAt
	cmSourceEventID
)

var commissionFields = newFields("commission_id", "kind", "reason", "owner_business_id",
	"provider_business_id", "client_id", "booking_id", "booking_amount", "rate", "amount",
	"currency", "occurred_at", "payable_at", "source_event_id").withText(cmCommissionID, cmOwnerBusinessID, cmProviderBusinessID, cmClientID, cmBookingID, cmSourceEventID)

// DecodeCommission decodes and validates a taskole.commissions.v1 value: accrual amounts are
// not negative, reversal amounts not positive, and amounts fit the currency's minor unit.
func DecodeCommission(data []byte) (Commission, error) {
	var r reader
	if !r.parse(data, commissionFields) {
		return Commission{}, r.err
	}
	v := Commission{
		CommissionID: r.id(cmCommissionID),
		Kind:         CommissionKind(r.enum(cmKind, true, string(Accrual), string(Reversal))),
		Reason: Reason(r.enum(cmReason, true, string(ReasonCompleted), string(ReasonRefund),
			string(ReasonCancellation), string(ReasonOwnershipCorrection))),
		OwnerBusinessID:    r.id(cmOwnerBusinessID),
		ProviderBusinessID: r.id(cmProviderBusinessID),
		ClientID:           r.id(cmClientID),
		BookingID:          r.id(cmBookingID),
	}
	bookingAmount := r.money(cmBookingAmount, true, false)
	v.Rate = r.rate(cmRate)
	amount := r.money(cmAmount, true, true)
	cur, _ := r.currency(cmCurrency, true)
	v.OccurredAt = r.time(cmOccurredAt, true)
	v.PayableAt = r.time(cmPayableAt, true)
	v.SourceEventID = r.id(cmSourceEventID)
	if amount.ok {
		if v.Kind == Accrual && amount.d.Sign() < 0 {
			r.fail(cmAmount, codeInvalid, "negative on an accrual")
		} else if v.Kind == Reversal && amount.d.Sign() > 0 {
			r.fail(cmAmount, codeInvalid, "positive on a reversal")
		}
	}
	r.checkPlaces(cmBookingAmount, bookingAmount, cur)
	r.checkPlaces(cmAmount, amount, cur)
	if r.err != nil {
		return Commission{}, r.err
	}
	v.BookingAmount, v.Amount, v.Currency = bookingAmount.d, amount.d, cur.code
	return v, nil
}

const (
	poPayoutID = iota
	poOwnerBusinessID
	poCurrency
	poPeriodStart
	poPeriodEnd
	poOpeningBalance
	poAccrued
	poReversed
	poNet
	poPayable
	poCarriedForward
	poCommissionCount
	poCommissionIDs
	poLateCount
	poLateCommissionIDs
)

var payoutFields = newFields("payout_id", "owner_business_id", "currency", "period_start",
	"period_end", "opening_balance", "accrued", "reversed", "net", "payable", "carried_forward",
	"commission_count", "commission_ids", "late_count", "late_commission_ids").withText(poPayoutID, poOwnerBusinessID)

// DecodePayout decodes and validates a taskole.payouts.v1 value: accrued is not negative,
// reversed not positive, every amount fits the currency's minor unit.
func DecodePayout(data []byte) (Payout, error) {
	var r reader
	if !r.parse(data, payoutFields) {
		return Payout{}, r.err
	}
	v := Payout{
		PayoutID:        r.id(poPayoutID),
		OwnerBusinessID: r.id(poOwnerBusinessID),
	}
	cur, _ := r.currency(poCurrency, true)
	v.PeriodStart = r.time(poPeriodStart, true)
	v.PeriodEnd = r.time(poPeriodEnd, true)
	var ms [6]money
	for k := range ms {
		i := poOpeningBalance + k
		ms[k] = r.money(i, true, true)
		r.checkPlaces(i, ms[k], cur)
	}
	if ms[1].ok && ms[1].d.Sign() < 0 {
		r.fail(poAccrued, codeInvalid, "negative")
	}
	if ms[2].ok && ms[2].d.Sign() > 0 {
		r.fail(poReversed, codeInvalid, "positive (reversals are negative or zero)")
	}
	n, _ := r.integer(poCommissionCount, true, 0, math.MaxInt32)
	v.CommissionCount = int(n)
	v.CommissionIDs = r.stringArray(poCommissionIDs)
	late, _ := r.integer(poLateCount, false, 0, math.MaxInt32)
	if r.err == nil && late > n {
		r.fail(poLateCount, codeInvalid, "more late entries than commission_count")
	}
	v.LateCount = int(late)
	v.LateCommissionIDs = r.stringArray(poLateCommissionIDs)
	if r.err != nil {
		return Payout{}, r.err
	}
	v.Currency = cur.code
	v.OpeningBalance, v.Accrued, v.Reversed = ms[0].d, ms[1].d, ms[2].d
	v.Net, v.Payable, v.CarriedForward = ms[3].d, ms[4].d, ms[5].d
	return v, nil
}

const (
	dlTopic = iota
	dlPartition
	dlOffset
	dlKey
	dlValue
	dlError
	dlConsumer
	dlFailedAt
	dlReason
	dlID
	dlOriginalBytes
	dlOriginalSHA256
)

var deadLetterFields = newFields("topic", "partition", "offset", "key", "value", "error", "consumer", "failed_at", "reason",
	"dlq_id", "original_bytes", "original_sha256").withText(dlTopic, dlError, dlConsumer, dlReason, dlID, dlOriginalSHA256)

// DecodeDeadLetter decodes and validates a taskole.dlq.v1 value. key and value are base64
// strings, or null for a null key or value.
func DecodeDeadLetter(data []byte) (DeadLetter, error) {
	var r reader
	if !r.parse(data, deadLetterFields) {
		return DeadLetter{}, r.err
	}
	v := DeadLetter{Topic: r.id(dlTopic)}
	part, _ := r.integer(dlPartition, true, 0, math.MaxInt32)
	off, _ := r.integer(dlOffset, true, 0, math.MaxInt64)
	v.Partition, v.Offset = int32(part), off
	v.Key = r.bytes(dlKey)
	v.Value = r.bytes(dlValue)
	v.Error = r.id(dlError)
	v.Consumer = r.id(dlConsumer)
	v.FailedAt = r.time(dlFailedAt, true)
	v.Reason = r.text(dlReason)
	v.ID = r.text(dlID)
	v.OriginalBytes, _ = r.integer(dlOriginalBytes, false, 0, math.MaxInt64)
	v.OriginalSHA256 = r.text(dlOriginalSHA256)
	if r.err != nil {
		return DeadLetter{}, r.err
	}
	return v, nil
}

const (
	pfFactID = iota
	pfClientID
	pfBookingID
	pfProviderBusinessID
	pfCurrency
	pfCompletedAt
	pfPurchases
	pfAmount
	pfRefunded
	pfCommissionOwner
	pfCommission
	pfSourceEventID
	pfOccurredAt
)

var purchaseFactFields = newFields("fact_id", "client_id", "booking_id", "provider_business_id", "currency",
	"completed_at", "purchases", "amount", "refunded", "commission_owner", "commission", "source_event_id",
	"occurred_at").withText(pfFactID, pfClientID, pfBookingID, pfProviderBusinessID, pfCommissionOwner, pfSourceEventID)

// DecodePurchaseFact decodes and validates a taskole.purchase-facts.v1 value under the default
// bounds (see Bounds.DecodePurchaseFact).
func DecodePurchaseFact(data []byte) (PurchaseFact, error) { return Bounds{}.DecodePurchaseFact(data) }

// DecodePurchaseFact decodes and validates a taskole.purchase-facts.v1 value under bounds b
// (ids, times and amounts as for input events: the sink stores what it decodes). purchases is
// an integer in [−1, 1]; amounts are signed and fit the currency's minor unit; a fact is a
// purchase delta (no commission_owner, commission 0: amount has the sign of purchases, refunded
// is negative only with purchases −1) or a commission delta (commission_owner set, purchases,
// amount and refunded 0).
func (b Bounds) DecodePurchaseFact(data []byte) (PurchaseFact, error) {
	r := reader{bd: b.WithDefaults(), bounded: true}
	if !r.parse(data, purchaseFactFields) {
		return PurchaseFact{}, r.err
	}
	v := PurchaseFact{
		FactID:             r.id(pfFactID),
		ClientID:           r.id(pfClientID),
		BookingID:          r.id(pfBookingID),
		ProviderBusinessID: r.id(pfProviderBusinessID),
	}
	cur, _ := r.currency(pfCurrency, true)
	v.CompletedAt = r.time(pfCompletedAt, true)
	n, _ := r.integer(pfPurchases, true, -1, 1)
	amount := r.money(pfAmount, true, true)
	refunded := r.money(pfRefunded, true, true)
	v.CommissionOwner = r.optID(pfCommissionOwner)
	commission := r.money(pfCommission, true, true)
	v.SourceEventID = r.id(pfSourceEventID)
	v.OccurredAt = r.time(pfOccurredAt, true)
	r.checkPlaces(pfAmount, amount, cur)
	r.checkPlaces(pfRefunded, refunded, cur)
	r.checkPlaces(pfCommission, commission, cur)
	if r.err == nil {
		r.checkFactShape(n, amount.d, refunded.d, v.CommissionOwner != "", commission.d)
	}
	if r.err != nil {
		return PurchaseFact{}, r.err
	}
	v.Currency, v.Purchases = cur.code, int8(n)
	v.Amount, v.Refunded, v.Commission = amount.d, refunded.d, commission.d
	return v, nil
}

// checkFactShape checks that a decoded fact is one kind of delta (DecodePurchaseFact).
func (r *reader) checkFactShape(n int64, amount, refunded decimal.Decimal, owned bool, commission decimal.Decimal) {
	switch {
	case owned && n != 0:
		r.fail(pfPurchases, codeInvalid, "not 0 on a commission delta (commission_owner set)")
	case owned && !amount.IsZero():
		r.fail(pfAmount, codeInvalid, "not 0 on a commission delta (commission_owner set)")
	case owned && !refunded.IsZero():
		r.fail(pfRefunded, codeInvalid, "not 0 on a commission delta (commission_owner set)")
	case !owned && !commission.IsZero():
		r.fail(pfCommissionOwner, codeMissing, "required when commission is not 0")
	case !owned && int64(amount.Sign()) != n:
		r.fail(pfAmount, codeInvalid, "does not have the sign of purchases")
	case !owned && refunded.Sign() < 0 && n != -1:
		r.fail(pfRefunded, codeInvalid, "negative without a cancellation (purchases -1)")
	case !owned && refunded.Sign() > 0 && n != 0:
		r.fail(pfRefunded, codeInvalid, "positive on a purchase or cancellation delta")
	}
}
