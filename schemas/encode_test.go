package schemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestAppendDecimal(t *testing.T) {
	tests := []struct {
		d    decimal.Decimal
		want string
	}{
		{decimal.RequireFromString("49.90"), "49.90"},
		{decimal.RequireFromString("0.05"), "0.05"},
		{decimal.RequireFromString("-0.05"), "-0.05"},
		{decimal.RequireFromString("-3.49"), "-3.49"},
		{decimal.RequireFromString("100"), "100"},
		{decimal.RequireFromString("0"), "0"},
		{decimal.RequireFromString("0.000"), "0.000"},
		{decimal.Decimal{}, "0"},
		{decimal.New(5, 2), "500"},
		{decimal.New(0, 2), "0"},
		{decimal.New(-123, -5), "-0.00123"},
		{decimal.RequireFromString("123456789012345678901234567890.1234"), "123456789012345678901234567890.1234"},
		{decimal.RequireFromString("-123456789012345678901234567890"), "-123456789012345678901234567890"},
		{decimal.RequireFromString("0.07").Mul(decimal.RequireFromString("49.90")), "3.4930"},
	}
	for _, tt := range tests {
		if got := string(appendDecimal(nil, tt.d)); got != tt.want {
			t.Errorf("appendDecimal(%s) = %s, want %s", tt.d, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "ctl\x00\x01\x1f\n\r\t", "é😀", "\u2028\u2029", "</script>"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("appendString(%q) = %s, which decodes to %q, %v", s, got, back, err)
		}
	}
	if got := string(appendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8 written as %s", got)
	}
}

func TestAppendCommission(t *testing.T) {
	c := Commission{
		CommissionID: "cm-1", Kind: Reversal, Reason: ReasonRefund, OwnerBusinessID: "biz-1",
		ProviderBusinessID: "biz-2", ClientID: "cli-1", BookingID: "bkg-1",
		BookingAmount: decimal.RequireFromString("49.90"), Rate: decimal.RequireFromString("0.07"),
		Amount: decimal.RequireFromString("-3.49"), Currency: "EUR",
		OccurredAt:    time.Date(2024, 5, 1, 10, 15, 30, 0, time.FixedZone("CEST", 2*3600)),
		PayableAt:     time.Date(2024, 6, 1, 0, 0, 0, 1000, time.UTC),
		SourceEventID: "evt-1",
	}
	want := `{"commission_id":"cm-1","kind":"reversal","reason":"refund","owner_business_id":"biz-1",` +
		`"provider_business_id":"biz-2","client_id":"cli-1","booking_id":"bkg-1","booking_amount":"49.90",` +
		`"rate":"0.07","amount":"-3.49","currency":"EUR","occurred_at":"2024-05-01T08:15:30Z",` +
		`"payable_at":"2024-06-01T00:00:00.000001Z","source_event_id":"evt-1"}`
	prefix := []byte("prefix:")
	got := AppendCommission(prefix, c)
	if string(got) != "prefix:"+want {
		t.Errorf("got  %s\nwant prefix:%s", got, want)
	}
}

func TestAppendOptionalFields(t *testing.T) {
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"enrollment without source", AppendEnrollment(nil, Enrollment{EventID: "e", ClientID: "c", BusinessID: "b", OccurredAt: at}),
			`{"event_id":"e","client_id":"c","business_id":"b","occurred_at":"2024-05-01T00:00:00Z"}`},
		{"created booking without money", AppendBooking(nil, Booking{EventID: "e", BookingID: "k", ClientID: "c", BusinessID: "b", Status: StatusCreated, OccurredAt: at}),
			`{"event_id":"e","booking_id":"k","client_id":"c","business_id":"b","status":"created","occurred_at":"2024-05-01T00:00:00Z"}`},
		{"payout without ids", AppendPayout(nil, Payout{PayoutID: "p", OwnerBusinessID: "o", Currency: "JPY", PeriodStart: at, PeriodEnd: at.AddDate(0, 1, 0), CommissionCount: 0}),
			`{"payout_id":"p","owner_business_id":"o","currency":"JPY","period_start":"2024-05-01T00:00:00Z","period_end":"2024-06-01T00:00:00Z","opening_balance":"0","accrued":"0","reversed":"0","net":"0","payable":"0","carried_forward":"0","commission_count":0,"late_count":0}`},
		{"payout with late entries", AppendPayout(nil, Payout{PayoutID: "p", OwnerBusinessID: "o", Currency: "JPY", PeriodStart: at, PeriodEnd: at.AddDate(0, 1, 0), CommissionCount: 2, CommissionIDs: []string{"a", "b"}, LateCount: 1, LateCommissionIDs: []string{"b"}}),
			`{"payout_id":"p","owner_business_id":"o","currency":"JPY","period_start":"2024-05-01T00:00:00Z","period_end":"2024-06-01T00:00:00Z","opening_balance":"0","accrued":"0","reversed":"0","net":"0","payable":"0","carried_forward":"0","commission_count":2,"commission_ids":["a","b"],"late_count":1,"late_commission_ids":["b"]}`},
		{"dead letter with null key", AppendDeadLetter(nil, DeadLetter{Topic: "t", Partition: 1, Offset: 2, Value: []byte{0xff}, Error: "e", Consumer: "c", FailedAt: at}),
			`{"topic":"t","partition":1,"offset":2,"key":null,"value":"/w==","error":"e","consumer":"c","failed_at":"2024-05-01T00:00:00Z"}`},
		{"dead letter with a reason", AppendDeadLetter(nil, DeadLetter{Topic: "t", Partition: 1, Offset: 2, Key: []byte("k"), Value: []byte("v"), Error: "e", Consumer: "c", FailedAt: at, Reason: "amount:invalid"}),
			`{"topic":"t","partition":1,"offset":2,"key":"aw==","value":"dg==","error":"e","consumer":"c","failed_at":"2024-05-01T00:00:00Z","reason":"amount:invalid"}`},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, tt := range []time.Time{
		time.Date(2024, 5, 1, 10, 15, 30, 0, time.UTC),
		time.Date(2024, 5, 1, 10, 15, 30, 500000000, time.UTC),
		time.Date(2024, 5, 1, 10, 15, 30, 1, time.UTC),
		time.Date(2024, 5, 1, 10, 15, 30, 123456780, time.FixedZone("", -5*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		want := tt.UTC().Format(time.RFC3339Nano)
		if got := string(appendTime(nil, tt)); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", tt, got, want)
		}
	}
}
