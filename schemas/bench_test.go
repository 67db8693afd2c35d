package schemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/valyala/fastjson"
)

// benchBooking is a realistic 350-byte booking: the contract fields plus two fields a
// producer added (which the decoder must skip).
var benchBooking = []byte(`{"event_id":"evt_01HZX3K9Q7M2V8N4R6T0W1Y5B3","booking_id":"bkg_01HZX3K9Q7ABCDEF012345","client_id":"cli_01HZX2P4D8QRSTUV678901","business_id":"biz_01HZW9M3C5WXYZAB234567","status":"completed","amount":"49.90","currency":"EUR","category":"hair","occurred_at":"2024-05-01T10:15:30.123+02:00","producer":"booking-svc/1.14.2","trace_id":"4bf92f3577b34da6"}`)

func TestBenchBookingIsValid(t *testing.T) {
	if len(benchBooking) < 340 || len(benchBooking) > 360 {
		t.Fatalf("bench booking is %d bytes, want ~350", len(benchBooking))
	}
	a, err := DecodeBooking(benchBooking)
	if err != nil {
		t.Fatal(err)
	}
	b, err := decodeBookingStd(benchBooking)
	if err != nil {
		t.Fatal(err)
	}
	if !equalBooking(a, b) {
		t.Fatalf("implementations disagree:\n%+v\n%+v", a, b)
	}
}

// decodeBookingStd is the encoding/json contender: unmarshal into an intermediate struct
// (json.RawMessage for money, to reject JSON numbers), then the same checks as DecodeBooking.
// It is kept only for the benchmark comparison; it cannot detect duplicate fields.
func decodeBookingStd(data []byte) (Booking, error) {
	var in struct {
		EventID      *string         `json:"event_id"`
		BookingID    *string         `json:"booking_id"`
		ClientID     *string         `json:"client_id"`
		BusinessID   *string         `json:"business_id"`
		Status       *string         `json:"status"`
		Amount       json.RawMessage `json:"amount"`
		Currency     *string         `json:"currency"`
		RefundAmount json.RawMessage `json:"refund_amount"`
		Category     *string         `json:"category"`
		OccurredAt   *string         `json:"occurred_at"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return Booking{}, fieldErr("", codeMalformed, "malformed JSON: "+err.Error())
	}
	id := func(name string, p *string) (string, error) {
		if p == nil {
			return "", fieldErr(name, codeMissing, "required")
		}
		if *p == "" {
			return "", fieldErr(name, codeInvalid, "empty")
		}
		return *p, nil
	}
	var v Booking
	var err error
	if v.EventID, err = id("event_id", in.EventID); err != nil {
		return Booking{}, err
	}
	if v.BookingID, err = id("booking_id", in.BookingID); err != nil {
		return Booking{}, err
	}
	if v.ClientID, err = id("client_id", in.ClientID); err != nil {
		return Booking{}, err
	}
	if v.BusinessID, err = id("business_id", in.BusinessID); err != nil {
		return Booking{}, err
	}
	st, err := id("status", in.Status)
	if err != nil {
		return Booking{}, err
	}
	for s := StatusCreated; int(s) < len(statusNames); s++ {
		if statusNames[s] == st {
			v.Status = s
		}
	}
	if v.Status == StatusUnknown {
		return Booking{}, fieldErr("status", codeInvalid, "unknown status")
	}
	dec := func(name string, raw json.RawMessage) (decimal.Decimal, int32, error) {
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return decimal.Decimal{}, 0, fieldErr(name, codeType, "not a decimal string")
		}
		places, ok := scanDecimal([]byte(s), false)
		if !ok {
			return decimal.Decimal{}, 0, fieldErr(name, codeInvalid, "not a decimal string")
		}
		d, err := decimal.NewFromString(s)
		return d, places, err
	}
	var amountPlaces int32
	if in.Amount != nil {
		if v.Amount, amountPlaces, err = dec("amount", in.Amount); err != nil {
			return Booking{}, err
		}
	}
	if in.Currency != nil {
		c, ok := currencies[*in.Currency]
		if !ok {
			return Booking{}, fieldErr("currency", codeInvalid, "unknown")
		}
		v.Currency = c.code
		if amountPlaces > c.minor {
			return Booking{}, fieldErr("amount", codeInvalid, "too many places")
		}
	}
	if in.RefundAmount != nil {
		if v.RefundAmount, _, err = dec("refund_amount", in.RefundAmount); err != nil {
			return Booking{}, err
		}
	}
	if in.Category != nil {
		v.Category = *in.Category
	}
	if in.OccurredAt == nil {
		return Booking{}, fieldErr("occurred_at", codeMissing, "required")
	}
	t, ok := parseTime([]byte(*in.OccurredAt))
	if !ok {
		return Booking{}, fieldErr("occurred_at", codeInvalid, "not RFC 3339")
	}
	v.OccurredAt = t
	if v.Status == StatusCompleted && (in.Amount == nil || v.Amount.Sign() <= 0 || in.Currency == nil) {
		return Booking{}, fieldErr("amount", codeMissing, "required when completed")
	}
	return v, nil
}

func equalBooking(a, b Booking) bool {
	return a.EventID == b.EventID && a.BookingID == b.BookingID && a.ClientID == b.ClientID &&
		a.BusinessID == b.BusinessID && a.Status == b.Status && a.Amount.Equal(b.Amount) &&
		a.Currency == b.Currency && a.RefundAmount.Equal(b.RefundAmount) &&
		a.Category == b.Category && a.OccurredAt.Equal(b.OccurredAt)
}

var sinkBooking Booking

func BenchmarkDecodeBooking(b *testing.B) { benchDecodeBooking(b, DecodeBooking) }

func BenchmarkDecodeBookingEncodingJSON(b *testing.B) { benchDecodeBooking(b, decodeBookingStd) }

// benchDecodeBooking measures decode over benchBooking (bytes, allocations, CPU time).
func benchDecodeBooking(b *testing.B, decode func([]byte) (Booking, error)) {
	b.SetBytes(int64(len(benchBooking)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		v, err := decode(benchBooking)
		if err != nil {
			b.Fatal(err)
		}
		sinkBooking = v
	}
}

func BenchmarkEncodeCommission(b *testing.B) {
	c := Commission{
		CommissionID: "cm_01HZX3K9Q7M2V8N4R6T0W1Y5B3:accrual", Kind: Accrual, Reason: ReasonCompleted,
		OwnerBusinessID: "biz_01HZW9M3C5WXYZAB234567", ProviderBusinessID: "biz_01HZW9M3C5QQQQAB234567",
		ClientID: "cli_01HZX2P4D8QRSTUV678901", BookingID: "bkg_01HZX3K9Q7ABCDEF012345",
		BookingAmount: decimal.RequireFromString("49.90"), Rate: decimal.RequireFromString("0.07"),
		Amount: decimal.RequireFromString("3.49"), Currency: "EUR",
		OccurredAt: time.Date(2024, 5, 1, 8, 15, 30, 123000000, time.UTC),
		PayableAt:  time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), SourceEventID: "evt_01HZX3K9Q7M2V8N4R6T0W1Y5B3",
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendCommission(buf[:0], c)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkValidateBooking measures fastjson's strict validation pass alone, the first of
// the former decoder's two passes (BenchmarkDecodeBookingFastjson); the scanner that
// replaced both does this checking as it goes.
func BenchmarkValidateBooking(b *testing.B) {
	b.SetBytes(int64(len(benchBooking)))
	b.ReportAllocs()
	for b.Loop() {
		if err := fastjson.ValidateBytes(benchBooking); err != nil {
			b.Fatal(err)
		}
	}
}
