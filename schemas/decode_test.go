package schemas

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

const okBooking = `{"event_id":"e1","booking_id":"b1","client_id":"c1","business_id":"p1","status":"completed","amount":"49.90","currency":"EUR","occurred_at":"2024-05-01T10:00:00+02:00"}`

// booking returns okBooking with replace applied pairwise (old, new, old, new...).
func booking(replace ...string) []byte {
	return []byte(strings.NewReplacer(replace...).Replace(okBooking))
}

func TestDecodeBookingErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		err   string
		label string
	}{
		{"amount as number", booking(`"49.90"`, `49.90`), `field "amount": not a decimal string (got number)`, "amount:type"},
		{"amount exponent", booking(`"49.90"`, `"4.99e1"`), `field "amount": not a decimal string`, "amount:invalid"},
		{"amount NaN", booking(`"49.90"`, `"NaN"`), `field "amount": not a decimal string`, "amount:invalid"},
		{"amount empty", booking(`"49.90"`, `""`), `field "amount": not a decimal string`, "amount:invalid"},
		{"amount negative", booking(`"49.90"`, `"-49.90"`), `field "amount": negative`, "amount:invalid"},
		{"amount zero on completed", booking(`"49.90"`, `"0.00"`), `field "amount": must be greater than 0 when status is completed`, "amount:invalid"},
		{"amount too precise", booking(`"49.90"`, `"49.901"`), `field "amount": more decimal places than EUR allows (2)`, "amount:invalid"},
		{"jpy fraction", booking(`"49.90"`, `"49.5"`, `EUR`, `JPY`), `field "amount": more decimal places than JPY allows (0)`, "amount:invalid"},
		{"amount too long", booking(`"49.90"`, `"`+strings.Repeat("9", 41)+`"`), `field "amount": decimal string longer than 40 characters`, "amount:invalid"},
		{"amount missing on completed", booking(`"amount":"49.90",`, ``), `field "amount": required when status is completed`, "amount:missing"},
		{"currency missing", booking(`"currency":"EUR",`, ``), `field "currency": required when amount or refund_amount is present`, "currency:missing"},
		{"currency unknown", booking(`EUR`, `EUX`), `field "currency": not a known ISO 4217 currency: "EUX"`, "currency:invalid"},
		{"currency lower case", booking(`EUR`, `eur`), `field "currency": not a three-letter upper-case currency code: "eur"`, "currency:invalid"},
		{"status unknown", booking(`completed`, `paid`), `field "status": unknown status "paid"`, "status:invalid"},
		{"status number", booking(`"completed"`, `3`), `field "status": not a string (got number)`, "status:type"},
		{"refund missing", booking(`completed`, `refunded`), `field "refund_amount": required when status is refunded`, "refund_amount:missing"},
		{"refund zero", booking(`completed`, `refunded`, `"currency"`, `"refund_amount":"0","currency"`), `field "refund_amount": must be greater than 0 when status is refunded`, "refund_amount:invalid"},
		{"event id empty", booking(`"e1"`, `""`), `field "event_id": empty`, "event_id:invalid"},
		{"event id missing", booking(`"event_id":"e1",`, ``), `field "event_id": required`, "event_id:missing"},
		{"event id null", booking(`"e1"`, `null`), `field "event_id": not a string (got null)`, "event_id:type"},
		{"duplicate", booking(`"event_id":"e1",`, `"event_id":"e1","event_id":"e2",`), `field "event_id": occurs more than once`, "event_id:duplicate"},
		{"time without zone", booking(`+02:00`, ``), `field "occurred_at": not an RFC 3339 time with zone: "2024-05-01T10:00:00"`, "occurred_at:invalid"},
		{"time year 0 in UTC", booking(`2024-05-01T10:00:00+02:00`, `0000-01-01T00:30:00+01:00`), `field "occurred_at": outside years 0001-9999 in UTC`, "occurred_at:invalid"},
		{"not an object", []byte(`"booking"`), `not a JSON object`, "json:not_object"},
		{"not JSON", []byte(`{"event_id":`), ``, "json:malformed"},
		{"empty input", nil, ``, "json:malformed"},
		{"first error wins in field order", booking(`"e1"`, `""`, `"b1"`, `""`), `field "event_id": empty`, "event_id:invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBooking(tt.in)
			var fe *InvalidError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *InvalidError", err, err)
			}
			if tt.err != "" && err.Error() != tt.err {
				t.Errorf("error\n got %s\nwant %s", err, tt.err)
			}
			if tt.err == "" && !strings.HasPrefix(err.Error(), "malformed JSON: ") {
				t.Errorf("error %q, want a malformed JSON error", err)
			}
			if fe.Label() != tt.label {
				t.Errorf("label %q, want %q", fe.Label(), tt.label)
			}
		})
	}
}

func TestDecodeBookingValues(t *testing.T) {
	b, err := DecodeBooking(booking(`"49.90"`, `"49.900"`, `+02:00`, `.123456789+02:00`))
	if err != nil {
		t.Fatal(err)
	}
	want := Booking{EventID: "e1", BookingID: "b1", ClientID: "c1", BusinessID: "p1",
		Status: StatusCompleted, Amount: decimal.RequireFromString("49.9"), Currency: "EUR",
		OccurredAt: time.Date(2024, 5, 1, 8, 0, 0, 123456789, time.UTC)}
	if !equalEvents(b, want) {
		t.Fatalf("got %+v\nwant %+v", b, want)
	}
	if b.Amount.Exponent() != -3 {
		t.Errorf("amount exponent %d, want -3 (the scale as written)", b.Amount.Exponent())
	}
	if b.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred_at in %v, want UTC", b.OccurredAt.Location())
	}
}

func TestDecodeFeedbackScore(t *testing.T) {
	tests := []struct {
		kind, score string
		want        int
		err         string
	}{
		{"nps", "0", 0, ""},
		{"nps", "10", 10, ""},
		{"nps", "11", 0, `field "score": out of range [0, 10]`},
		{"nps", "-1", 0, `field "score": out of range [0, 10]`},
		{"csat", "1", 1, ""},
		{"csat", "5", 5, ""},
		{"csat", "0", 0, `field "score": out of range [1, 5]`},
		{"csat", "6", 0, `field "score": out of range [1, 5]`},
		{"nps", "7.0", 7, ""},
		{"nps", "7.5", 0, `field "score": not an integer`},
		{"nps", "1e400", 0, `field "score": not an integer`},
		{"nps", `"7"`, 0, `field "score": not an integer (got string)`},
		{"ces", "7", 0, `field "kind": unknown value "ces"`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.score, func(t *testing.T) {
			in := `{"event_id":"e","client_id":"c","business_id":"b","kind":"` + tt.kind + `","score":` + tt.score + `,"occurred_at":"2024-05-01T00:00:00Z"}`
			f, err := DecodeFeedback([]byte(in))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Score != tt.want || string(f.Kind) != tt.kind {
				t.Errorf("got %s %d, want %s %d", f.Kind, f.Score, tt.kind, tt.want)
			}
		})
	}
}

func TestDecodeBusinessRate(t *testing.T) {
	tests := []struct {
		rate string
		err  string
	}{
		{`"0"`, ""},
		{`"0.07"`, ""},
		{`"1"`, ""},
		{`"1.000"`, ""},
		{`"0.000001"`, ""},
		{`"0.1000000"`, ""},
		{`"0.0000001"`, `field "referral_rate": more decimal places than a referral rate allows (6)`},
		{`"0.050000000000000000000000000001"`, `field "referral_rate": more decimal places than a referral rate allows (6)`},
		{`"1.0000001"`, `field "referral_rate": greater than 1 (a rate is a fraction in [0, 1])`},
		{`"-0.01"`, `field "referral_rate": negative`},
		{`"7%"`, `field "referral_rate": not a decimal string`},
		{`0.07`, `field "referral_rate": not a decimal string (got number)`},
	}
	for _, tt := range tests {
		t.Run(tt.rate, func(t *testing.T) {
			in := `{"event_id":"e","business_id":"b","name":"n","sector":"s","referral_rate":` + tt.rate + `,"occurred_at":"2024-05-01T00:00:00Z"}`
			v, err := DecodeBusiness([]byte(in))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := decimal.RequireFromString(strings.Trim(tt.rate, `"`)); !v.ReferralRate.Equal(want) {
					t.Errorf("rate %s, want %s", v.ReferralRate, want)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Errorf("error %v, want %s", err, tt.err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-01T10:00:00Z", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), true},
		{"2024-05-01T10:00:00+02:00", time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC), true},
		{"2024-05-01T10:00:00-05:30", time.Date(2024, 5, 1, 15, 30, 0, 0, time.UTC), true},
		{"2024-05-01T10:00:00.5Z", time.Date(2024, 5, 1, 10, 0, 0, 500000000, time.UTC), true},
		{"2024-05-01T10:00:00.1234567891Z", time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC), true},
		{"2024-12-31T23:30:00-01:00", time.Date(2025, 1, 1, 0, 30, 0, 0, time.UTC), true},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"2100-02-29T00:00:00Z", time.Time{}, false},
		{"2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2024-04-31T00:00:00Z", time.Time{}, false},
		{"2024-05-01T10:00:00", time.Time{}, false},
		{"2024-05-01T10:00:00z", time.Time{}, false},
		{"2024-05-01t10:00:00Z", time.Time{}, false},
		{"2024-05-01 10:00:00Z", time.Time{}, false},
		{"2024-05-01T10:00:00.Z", time.Time{}, false},
		{"2024-05-01T10:00:60Z", time.Time{}, false},
		{"2024-05-01T10:00:00+24:00", time.Time{}, false},
		{"2024-05-01T10:00:00+0200", time.Time{}, false},
		{"2024-5-01T10:00:00Z", time.Time{}, false},
		{"+2024-05-01T10:00:00Z", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTime([]byte(tt.in))
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && tt.ok {
			std, err := time.Parse(time.RFC3339Nano, tt.in)
			if err != nil || !std.Equal(got) {
				t.Errorf("parseTime(%q) = %v, time.Parse = %v, %v", tt.in, got, std, err)
			}
		}
	}
}

func TestScanDecimal(t *testing.T) {
	tests := []struct {
		in     string
		signed bool
		places int32
		ok     bool
	}{
		{"0", false, 0, true},
		{"49.90", false, 1, true},
		{"49.901", false, 3, true},
		{"0.000", false, 0, true},
		{"100", false, 0, true},
		{"-3.49", true, 2, true},
		{"-3.49", false, 0, false},
		{"-", true, 0, false},
		{"", false, 0, false},
		{"01", false, 0, false},
		{"00.5", false, 0, false},
		{"1.", false, 0, false},
		{".1", false, 0, false},
		{"1e3", false, 0, false},
		{"1.2.3", false, 0, false},
		{"+1", false, 0, false},
		{"١", false, 0, false}, // Arabic-Indic digit one
	}
	for _, tt := range tests {
		places, ok := scanDecimal([]byte(tt.in), tt.signed)
		if ok != tt.ok || places != tt.places {
			t.Errorf("scanDecimal(%q, %v) = %d, %v; want %d, %v", tt.in, tt.signed, places, ok, tt.places, tt.ok)
		}
	}
}

func TestDecodeDeadLetterBytes(t *testing.T) {
	in := `{"topic":"t","partition":0,"offset":9223372036854775807,"key":null,"value":"","error":"e","consumer":"c","failed_at":"2024-05-01T00:00:00Z"}`
	d, err := DecodeDeadLetter([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if d.Key != nil {
		t.Errorf("key %q, want nil for null", d.Key)
	}
	if d.Value == nil || len(d.Value) != 0 {
		t.Errorf("value %#v, want empty and non-nil", d.Value)
	}
	if d.Offset != 1<<63-1 {
		t.Errorf("offset %d", d.Offset)
	}
	if d.Reason != "" {
		t.Errorf("reason %q, want empty when absent", d.Reason)
	}
	if d, err := DecodeDeadLetter([]byte(strings.Replace(in, `}`, `,"reason":"amount:invalid"}`, 1))); err != nil || d.Reason != "amount:invalid" {
		t.Errorf("with a reason: %q, %v", d.Reason, err)
	}
	var rfe *InvalidError
	if _, err := DecodeDeadLetter([]byte(strings.Replace(in, `}`, `,"reason":7}`, 1))); !errors.As(err, &rfe) || rfe.Field != "reason" {
		t.Errorf("numeric reason: error %v, want a reason error", err)
	}
	for _, bad := range []string{`"a"`, `"YQ"`, `"YQ==\n"`, `"Y\nQ=="`, `1`} {
		_, err := DecodeDeadLetter([]byte(strings.Replace(in, `"value":""`, `"value":`+bad, 1)))
		var fe *InvalidError
		if !errors.As(err, &fe) || fe.Field != "value" {
			t.Errorf("value %s: error %v, want a value error", bad, err)
		}
	}
}

func TestFieldErrorLabel(t *testing.T) {
	tests := []struct {
		err  *InvalidError
		want string
	}{
		{&InvalidError{Field: "amount", Reason: "x"}, "amount:invalid"},
		{fieldErr("amount", codeMissing, "required"), "amount:missing"},
		{fieldErr("", codeMalformed, "malformed JSON: x"), "json:malformed"},
	}
	for _, tt := range tests {
		if got := tt.err.Label(); got != tt.want {
			t.Errorf("Label() = %q, want %q", got, tt.want)
		}
	}
	if got := (&InvalidError{Field: "amount", Reason: "not a decimal string"}).Error(); got != `field "amount": not a decimal string` {
		t.Errorf("Error() = %s", got)
	}
}

func TestMinorUnit(t *testing.T) {
	tests := []struct {
		code string
		exp  int32
		ok   bool
	}{
		{"EUR", 2, true}, {"USD", 2, true}, {"JPY", 0, true}, {"KRW", 0, true}, {"BHD", 3, true},
		{"KWD", 3, true}, {"TND", 3, true}, {"CLF", 4, true}, {"UYW", 4, true}, {"ISK", 0, true},
		{"eur", 0, false}, {"XXX", 0, false}, {"XAU", 0, false}, {"HRK", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		exp, ok := MinorUnit(tt.code)
		if exp != tt.exp || ok != tt.ok {
			t.Errorf("MinorUnit(%q) = %d, %v; want %d, %v", tt.code, exp, ok, tt.exp, tt.ok)
		}
	}
	if n := len(currencies); n < 150 {
		t.Errorf("only %d currencies", n)
	}
}
