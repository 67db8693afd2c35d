package schemas

// The fastjson implementation of the decoders that decode.go replaced, kept verbatim (renamed
// with a fj prefix) as the reference for the differential fuzz tests in diff_test.go.

import (
	"encoding/base64"
	"math"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/valyala/fastjson"
)

// fjParsers recycles fastjson fjParsers; a parser is not safe for concurrent use.
var fjParsers fastjson.ParserPool

// fjReader holds the contract fields of one JSON object, looked up once, and the first error.
// Its methods read one field each and do nothing after the first error, so a decoder reads
// straight down the field list and checks r.err once.
type fjReader struct {
	names []string
	vals  [maxFields]*fastjson.Value
	err   *InvalidError
}

// parse parses data as one JSON object and records the values of the named fields.
// Unknown fields are ignored (producers evolve); a contract field that occurs twice is an
// error, because JSON fjParsers disagree on which occurrence wins.
func (r *fjReader) parse(p *fastjson.Parser, data []byte, names []string) bool {
	// fastjson's parser is lenient (bad escapes, "nan", leading zeros); its validator is
	// strict and cheap, so every record goes through both.
	if err := fastjson.ValidateBytes(data); err != nil {
		r.err = fieldErr("", codeMalformed, "malformed JSON: "+err.Error())
		return false
	}
	v, err := p.ParseBytes(data)
	if err != nil {
		r.err = fieldErr("", codeMalformed, "malformed JSON: "+err.Error())
		return false
	}
	o, err := v.Object()
	if err != nil {
		r.err = fieldErr("", codeNotObject, "not a JSON object")
		return false
	}
	r.names = names
	o.Visit(func(k []byte, v *fastjson.Value) {
		for i, n := range names {
			if n == string(k) {
				if r.vals[i] != nil && r.err == nil {
					r.err = fieldErr(n, codeDuplicate, "occurs more than once")
				}
				r.vals[i] = v
				return
			}
		}
	})
	return r.err == nil
}

func (r *fjReader) fail(i int, code, reason string) {
	if r.err == nil {
		r.err = fieldErr(r.names[i], code, reason)
	}
}

// str returns the raw bytes of string field i; ok is false when it is absent or on error.
func (r *fjReader) str(i int, required bool) (b []byte, ok bool) {
	if r.err != nil {
		return nil, false
	}
	v := r.vals[i]
	if v == nil {
		if required {
			r.fail(i, codeMissing, "required")
		}
		return nil, false
	}
	if v.Type() != fastjson.TypeString {
		r.fail(i, codeType, "not a string (got "+v.Type().String()+")")
		return nil, false
	}
	b, _ = v.StringBytes()
	if !utf8.Valid(b) {
		r.fail(i, codeInvalid, "not valid UTF-8")
		return nil, false
	}
	return b, true
}

// id reads a required, non-empty string.
func (r *fjReader) id(i int) string {
	b, ok := r.str(i, true)
	if !ok {
		return ""
	}
	if len(b) == 0 {
		r.fail(i, codeInvalid, "empty")
		return ""
	}
	return string(b)
}

// text reads an optional string; absent reads as "".
func (r *fjReader) text(i int) string {
	b, ok := r.str(i, false)
	if !ok {
		return ""
	}
	return string(b)
}

// enum reads a string that must be one of values; absent reads as "" (an error if required).
func (r *fjReader) enum(i int, required bool, values ...string) string {
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
type fjMoney struct {
	d      decimal.Decimal
	places int32
	ok     bool // present and valid
}

// money reads a decimal string: digits, an optional fraction, a leading minus only when
// signed; no exponent, no leading zeros, no JSON numbers.
func (r *fjReader) money(i int, required, signed bool) fjMoney {
	if r.err == nil && r.vals[i] != nil && r.vals[i].Type() != fastjson.TypeString {
		// the commonest producer mistake: a JSON number for money
		r.fail(i, codeType, "not a decimal string (got "+r.vals[i].Type().String()+")")
	}
	b, ok := r.str(i, required)
	if !ok {
		return fjMoney{}
	}
	if len(b) > maxNumberText {
		r.fail(i, codeInvalid, "decimal string longer than 40 characters")
		return fjMoney{}
	}
	places, ok := scanDecimal(b, signed)
	if !ok {
		if !signed && len(b) > 0 && b[0] == '-' {
			r.fail(i, codeInvalid, "negative")
		} else {
			r.fail(i, codeInvalid, "not a decimal string")
		}
		return fjMoney{}
	}
	d, err := decimal.NewFromString(unsafeString(b))
	if err != nil { // unreachable after scanDecimal; kept as a guard
		r.fail(i, codeInvalid, "not a decimal string")
		return fjMoney{}
	}
	return fjMoney{d: d, places: places, ok: true}
}

// rate reads a fraction in [0, 1] written as a decimal string.
func (r *fjReader) rate(i int) decimal.Decimal {
	m := r.money(i, true, false)
	if !m.ok {
		return decimal.Decimal{}
	}
	if m.d.GreaterThan(decimal.NewFromInt(1)) {
		r.fail(i, codeInvalid, "greater than 1 (a rate is a fraction in [0, 1])")
	}
	return m.d
}

// currency reads an ISO 4217 code.
func (r *fjReader) currency(i int, required bool) (currency, bool) {
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

// checkPlaces rejects an amount that needs more decimal places than its currency has.
func (r *fjReader) checkPlaces(i int, m fjMoney, c currency) {
	if m.ok && m.places > c.minor {
		r.fail(i, codeInvalid, "more decimal places than "+c.code+" allows ("+itoa(int(c.minor))+")")
	}
}

// time reads an RFC 3339 timestamp with zone and returns it in UTC.
func (r *fjReader) time(i int, required bool) time.Time {
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
	return t
}

// integer reads a JSON number that must be an integer in [lo, hi]. Like JSON Schema's
// "integer", 7.0 counts as an integer.
func (r *fjReader) integer(i int, required bool, lo, hi int64) (int64, bool) {
	if r.err != nil {
		return 0, false
	}
	v := r.vals[i]
	if v == nil {
		if required {
			r.fail(i, codeMissing, "required")
		}
		return 0, false
	}
	if v.Type() != fastjson.TypeNumber {
		r.fail(i, codeType, "not an integer (got "+v.Type().String()+")")
		return 0, false
	}
	n, err := v.Int64()
	if err != nil {
		f, ferr := v.Float64()
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
func (r *fjReader) bytes(i int) []byte {
	if r.err != nil {
		return nil
	}
	v := r.vals[i]
	if v == nil {
		r.fail(i, codeMissing, "required (null for none)")
		return nil
	}
	if v.Type() == fastjson.TypeNull {
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
func (r *fjReader) stringArray(i int) []string {
	if r.err != nil || r.vals[i] == nil {
		return nil
	}
	v := r.vals[i]
	if v.Type() != fastjson.TypeArray {
		r.fail(i, codeType, "not an array (got "+v.Type().String()+")")
		return nil
	}
	a, _ := v.Array()
	if len(a) == 0 {
		return nil
	}
	out := make([]string, len(a))
	for k, e := range a {
		b, err := e.StringBytes()
		if err != nil {
			r.fail(i, codeType, "element "+itoa(k)+" is not a string")
			return nil
		}
		if len(b) == 0 || !utf8.Valid(b) {
			r.fail(i, codeInvalid, "element "+itoa(k)+" is empty or not UTF-8")
			return nil
		}
		out[k] = string(b)
	}
	return out
}

// ---- inputs ----

// fjDecodeEnrollment decodes and validates a taskole.enrollments.v1 value.
func fjDecodeEnrollment(data []byte) (Enrollment, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, enrollmentFields.names) {
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

func (r *fjReader) status(i int) Status {
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

// fjDecodeBooking decodes and validates a taskole.bookings.v1 value. amount and currency are
// required, and amount must be positive, when status is completed; refund_amount is required
// and positive when status is refunded; currency is required whenever an amount is present;
// an amount may not need more decimal places than its currency's minor unit.
func fjDecodeBooking(data []byte) (Booking, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, bookingFields.names) {
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

// fjDecodeBusiness decodes and validates a taskole.businesses.v1 value.
func fjDecodeBusiness(data []byte) (Business, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, businessFields.names) {
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

// fjDecodeFeedback decodes and validates a taskole.feedback.v1 value: score is an integer in
// 0–10 for nps and 1–5 for csat.
func fjDecodeFeedback(data []byte) (Feedback, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, feedbackFields.names) {
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

// fjDecodeAcquisitionCost decodes and validates a taskole.acquisition-costs.v1 value.
func fjDecodeAcquisitionCost(data []byte) (AcquisitionCost, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, acquisitionCostFields.names) {
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

// ---- outputs ----

// fjDecodeReferralOwner decodes and validates a taskole.referral-owners.v1 value.
func fjDecodeReferralOwner(data []byte) (ReferralOwner, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, referralOwnerFields.names) {
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

// fjDecodeCommission decodes and validates a taskole.commissions.v1 value: accrual amounts are
// not negative, reversal amounts not positive, and amounts fit the currency's minor unit.
func fjDecodeCommission(data []byte) (Commission, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, commissionFields.names) {
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

// fjDecodePayout decodes and validates a taskole.payouts.v1 value: accrued is not negative,
// reversed not positive, every amount fits the currency's minor unit.
func fjDecodePayout(data []byte) (Payout, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, payoutFields.names) {
		return Payout{}, r.err
	}
	v := Payout{
		PayoutID:        r.id(poPayoutID),
		OwnerBusinessID: r.id(poOwnerBusinessID),
	}
	cur, _ := r.currency(poCurrency, true)
	v.PeriodStart = r.time(poPeriodStart, true)
	v.PeriodEnd = r.time(poPeriodEnd, true)
	var ms [6]fjMoney
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

// fjDecodeDeadLetter decodes and validates a taskole.dlq.v1 value. key and value are base64
// strings, or null for a null key or value.
func fjDecodeDeadLetter(data []byte) (DeadLetter, error) {
	p := fjParsers.Get()
	defer fjParsers.Put(p)
	var r fjReader
	if !r.parse(p, data, deadLetterFields.names) {
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
	if r.err != nil {
		return DeadLetter{}, r.err
	}
	return v, nil
}
