package schemas

import (
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The Append functions write one event as a JSON object to dst and return the extended
// slice. They use no reflection and allocate nothing beyond growing dst (decimals of more
// than 18 digits excepted). Decimals are written as strings at exactly the scale they hold
// ("49.90" stays "49.90"; the producer decides the scale), times in UTC as RFC 3339 with
// fractional seconds only when non-zero. Optional fields are omitted when empty. The values
// are trusted: validation is the decoder's job.

type encoder struct{ b []byte }

func (e *encoder) open() { e.b = append(e.b, '{') }

func (e *encoder) close() []byte { return append(e.b, '}') }

func (e *encoder) key(k string) {
	if e.b[len(e.b)-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *encoder) str(k, v string) {
	e.key(k)
	e.b = appendString(e.b, v)
}

func (e *encoder) optStr(k, v string) {
	if v != "" {
		e.str(k, v)
	}
}

func (e *encoder) dec(k string, d decimal.Decimal) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = appendDecimal(e.b, d)
	e.b = append(e.b, '"')
}

func (e *encoder) time(k string, t time.Time) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = appendTime(e.b, t)
	e.b = append(e.b, '"')
}

// appendTime writes t in UTC as RFC 3339 with the fraction trimmed of trailing zeros
// (time.RFC3339Nano), without the generic layout interpreter.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for k := 9; k >= 1; k-- {
			frac[k] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

func (e *encoder) int(k string, n int64) {
	e.key(k)
	e.b = appendInt(e.b, n)
}

func (e *encoder) bytes(k string, v []byte) {
	e.key(k)
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '"')
	e.b = base64.StdEncoding.AppendEncode(e.b, v)
	e.b = append(e.b, '"')
}

// appendDecimal writes d in plain notation at its own scale: coefficient 4990, exponent -2
// is "49.90".
func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	exp := d.Exponent()
	if d.NumDigits() > 18 {
		if exp >= 0 {
			return append(dst, d.String()...)
		}
		return append(dst, d.StringFixed(-exp)...)
	}
	c := d.CoefficientInt64()
	if c < 0 {
		dst = append(dst, '-')
		c = -c
	}
	var buf [24]byte
	digits := appendInt(buf[:0], c)
	if exp >= 0 {
		dst = append(dst, digits...)
		if c != 0 {
			for ; exp > 0; exp-- {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	places := int(-exp)
	if len(digits) <= places {
		dst = append(dst, '0', '.')
		for k := len(digits); k < places; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-places]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-places:]...)
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes a JSON string holds as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as a JSON string: quotes, backslashes and control characters are
// escaped, as are U+2028 and U+2029 (JavaScript line terminators); invalid UTF-8 becomes
// U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendEnrollment appends v as a taskole.enrollments.v1 value.
func AppendEnrollment(dst []byte, v Enrollment) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("client_id", v.ClientID)
	e.str("business_id", v.BusinessID)
	e.optStr("source", v.Source)
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendBooking appends v as a taskole.bookings.v1 value. amount is written when the
// booking carries a currency, refund_amount when the status is refunded or it is non-zero.
func AppendBooking(dst []byte, v Booking) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("booking_id", v.BookingID)
	e.str("client_id", v.ClientID)
	e.str("business_id", v.BusinessID)
	e.str("status", v.Status.String())
	if v.Currency != "" || !v.Amount.IsZero() {
		e.dec("amount", v.Amount)
	}
	e.optStr("currency", v.Currency)
	if v.Status == StatusRefunded || !v.RefundAmount.IsZero() {
		e.dec("refund_amount", v.RefundAmount)
	}
	e.optStr("category", v.Category)
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendBusiness appends v as a taskole.businesses.v1 value.
func AppendBusiness(dst []byte, v Business) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("business_id", v.BusinessID)
	e.str("name", v.Name)
	e.str("sector", v.Sector)
	e.dec("referral_rate", v.ReferralRate)
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendFeedback appends v as a taskole.feedback.v1 value.
func AppendFeedback(dst []byte, v Feedback) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("client_id", v.ClientID)
	e.str("business_id", v.BusinessID)
	e.str("kind", string(v.Kind))
	e.int("score", int64(v.Score))
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendAcquisitionCost appends v as a taskole.acquisition-costs.v1 value.
func AppendAcquisitionCost(dst []byte, v AcquisitionCost) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("business_id", v.BusinessID)
	e.dec("amount", v.Amount)
	e.str("currency", v.Currency)
	e.optStr("channel", v.Channel)
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendRetentionCost appends v as a taskole.retention-costs.v1 value.
func AppendRetentionCost(dst []byte, v RetentionCost) []byte {
	e := encoder{dst}
	e.open()
	e.str("event_id", v.EventID)
	e.str("business_id", v.BusinessID)
	e.optStr("client_id", v.ClientID)
	e.dec("amount", v.Amount)
	e.str("currency", v.Currency)
	e.str("kind", string(v.Kind))
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendReferralOwner appends v as a taskole.referral-owners.v1 value.
func AppendReferralOwner(dst []byte, v ReferralOwner) []byte {
	e := encoder{dst}
	e.open()
	e.str("client_id", v.ClientID)
	e.str("owner_business_id", v.OwnerBusinessID)
	e.time("owned_since", v.OwnedSince)
	e.str("source", string(v.Source))
	e.str("event_id", v.EventID)
	return e.close()
}

// AppendCommission appends v as a taskole.commissions.v1 value.
func AppendCommission(dst []byte, v Commission) []byte {
	e := encoder{dst}
	e.open()
	e.str("commission_id", v.CommissionID)
	e.str("kind", string(v.Kind))
	e.str("reason", string(v.Reason))
	e.str("owner_business_id", v.OwnerBusinessID)
	e.str("provider_business_id", v.ProviderBusinessID)
	e.str("client_id", v.ClientID)
	e.str("booking_id", v.BookingID)
	e.dec("booking_amount", v.BookingAmount)
	e.dec("rate", v.Rate)
	e.dec("amount", v.Amount)
	e.str("currency", v.Currency)
	e.time("occurred_at", v.OccurredAt)
	e.time("payable_at", v.PayableAt)
	e.str("source_event_id", v.SourceEventID)
	return e.close()
}

// AppendPurchaseFact appends v as a taskole.purchase-facts.v1 value; commission_owner is
// omitted when empty (a purchase delta).
func AppendPurchaseFact(dst []byte, v PurchaseFact) []byte {
	e := encoder{dst}
	e.open()
	e.str("fact_id", v.FactID)
	e.str("client_id", v.ClientID)
	e.str("booking_id", v.BookingID)
	e.str("provider_business_id", v.ProviderBusinessID)
	e.str("currency", v.Currency)
	e.time("completed_at", v.CompletedAt)
	e.int("purchases", int64(v.Purchases))
	e.dec("amount", v.Amount)
	e.dec("refunded", v.Refunded)
	e.optStr("commission_owner", v.CommissionOwner)
	e.dec("commission", v.Commission)
	e.str("source_event_id", v.SourceEventID)
	e.time("occurred_at", v.OccurredAt)
	return e.close()
}

// AppendPayout appends v as a taskole.payouts.v1 value; the extension fields commission_ids
// and late_commission_ids are written when non-empty, late_count always.
func AppendPayout(dst []byte, v Payout) []byte {
	e := encoder{dst}
	e.open()
	e.str("payout_id", v.PayoutID)
	e.str("owner_business_id", v.OwnerBusinessID)
	e.str("currency", v.Currency)
	e.time("period_start", v.PeriodStart)
	e.time("period_end", v.PeriodEnd)
	e.dec("opening_balance", v.OpeningBalance)
	e.dec("accrued", v.Accrued)
	e.dec("reversed", v.Reversed)
	e.dec("net", v.Net)
	e.dec("payable", v.Payable)
	e.dec("carried_forward", v.CarriedForward)
	e.int("commission_count", int64(v.CommissionCount))
	if len(v.CommissionIDs) > 0 {
		e.key("commission_ids")
		e.b = append(e.b, '[')
		for k, id := range v.CommissionIDs {
			if k > 0 {
				e.b = append(e.b, ',')
			}
			e.b = appendString(e.b, id)
		}
		e.b = append(e.b, ']')
	}
	e.int("late_count", int64(v.LateCount))
	if len(v.LateCommissionIDs) > 0 {
		e.key("late_commission_ids")
		e.b = append(e.b, '[')
		for k, id := range v.LateCommissionIDs {
			if k > 0 {
				e.b = append(e.b, ',')
			}
			e.b = appendString(e.b, id)
		}
		e.b = append(e.b, ']')
	}
	return e.close()
}

// AppendDeadLetter appends v as a taskole.dlq.v1 value; key and value are base64, null
// when nil.
func AppendDeadLetter(dst []byte, v DeadLetter) []byte {
	e := encoder{dst}
	e.open()
	e.str("topic", v.Topic)
	e.int("partition", int64(v.Partition))
	e.int("offset", v.Offset)
	e.bytes("key", v.Key)
	e.bytes("value", v.Value)
	e.str("error", v.Error)
	e.str("consumer", v.Consumer)
	e.time("failed_at", v.FailedAt)
	e.optStr("reason", v.Reason)
	e.optStr("dlq_id", v.ID)
	if v.OriginalBytes > 0 {
		e.int("original_bytes", v.OriginalBytes)
	}
	e.optStr("original_sha256", v.OriginalSHA256)
	return e.close()
}
