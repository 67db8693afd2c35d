package commission

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// TestBookLayout pins the compact book: whatever is set — ids that pack and ids that do not,
// more events than fit inline, decimals inside and beyond an int64 coefficient or an int8
// exponent — reads back as the same id, hashes (in order) and decimals (coefficient and
// exponent), survives the changelog round trip byte for byte, and keeps what the decimal
// formula round((amount − refunded) × rate) keeps.
func TestBookLayout(t *testing.T) {
	d := decimal.RequireFromString
	big := d("123456789012345678901234.5") // 25 digits: beyond int64
	tests := []struct {
		name                   string
		id                     string
		seen                   int
		amount, refunded, rate decimal.Decimal
		exp                    int8
		noCodec                bool // not a changelog value (exponents beyond ±32): no round trip
	}{
		{"uuid lower", "0f8fad5b-d9cb-469f-a165-70867728950e", 3, d("120.50"), decimal.Decimal{}, d("0.1"), 2, false},
		{"uuid upper", "0F8FAD5B-D9CB-469F-A165-70867728950E", 4, d("120.5"), d("20.25"), d("0.123456"), 2, false},
		{"uuid digits only", "01234567-0123-0123-0123-012345678901", 1, d("7"), decimal.Decimal{}, d("1"), 0, false},
		{"uuid mixed case", "0f8fad5b-D9CB-469f-a165-70867728950e", 2, d("1.005"), d("0.001"), d("0.5"), 3, false},
		{"short", "b-1", 5, d("0.01"), d("0.01"), d("0.000001"), 2, false},
		{"sixteen bytes", "bbbbbbbbbbbbbbbb", 9, d("999999999999.9999"), d("0.0001"), d("0.999999999999999999"), 4, false},
		{"long", "booking-with-a-rather-long-identifier-0001", 6, d("10"), d("3.3"), d("0.25"), 2, false},
		{"zero rate with places", "b-2", 1, d("10"), decimal.Decimal{}, d("0.000"), 2, false},
		{"big amount", "b-3", 2, big, d("0.5"), d("0.1"), 2, false},
		{"big rate exponent", "b-4", 2, d("10"), decimal.Decimal{}, decimal.New(1, -200), 2, true},
		{"big refunded", "b-5", 2, big, big.Sub(d("1")), d("0.2"), 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBook(tt.id, "p1")
			hashes := make([]uint64, tt.seen)
			for i := range hashes {
				hashes[i] = uint64(i)*7919 + 1
				b.addSeen(hashes[i])
			}
			b.status, b.done, b.at, b.owner = schemas.StatusRefunded, true, 5, "o1"
			code := map[int8]string{0: "JPY", 2: "EUR", 3: "BHD", 4: "CLF"}[tt.exp]
			b.cur, _ = schemas.CurrencyIndex(code)
			if b.currency() != code || b.exp() != int32(tt.exp) {
				t.Fatalf("currency %q exp %d, want %q %d", b.currency(), b.exp(), code, tt.exp)
			}
			b.setAmount(tt.amount)
			b.setRefunded(tt.refunded)
			b.setRate(tt.rate)
			checkBook(t, &b, tt.id, hashes, tt.amount, tt.refunded, tt.rate)
			want := mulRound(tt.amount.Sub(tt.refunded), tt.rate, int32(tt.exp))
			if k := b.kept(); !k.Equal(want) || k.Exponent() != want.Exponent() {
				t.Errorf("kept %s, want %s", k, want)
			}

			if tt.noCodec {
				return
			}
			var s State
			s.add(b)
			enc, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var u State
			if err := u.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if u.Bookings() != 1 {
				t.Fatalf("%d bookings after the round trip", u.Bookings())
			}
			checkBook(t, &u.x.books[0], tt.id, hashes, tt.amount, tt.refunded, tt.rate)
			if again, _ := u.MarshalBinary(); string(again) != string(enc) {
				t.Errorf("encoding changed by a round trip")
			}
			if u.find(tt.id) != 0 || u.find(tt.id+"x") != -1 || u.find("") != -1 {
				t.Errorf("find %q", tt.id)
			}
		})
	}
}

func checkBook(t *testing.T, b *book, id string, hashes []uint64, amount, refunded, rate decimal.Decimal) {
	t.Helper()
	if got := b.idString(); got != id || b.idLen() != len(id) || string(b.appendID(nil)) != id {
		t.Errorf("id %q (len %d), want %q", got, b.idLen(), id)
	}
	var got []uint64
	b.eachSeen(func(h uint64) { got = append(got, h) })
	if len(got) != len(hashes) || b.seenCount() != len(hashes) {
		t.Fatalf("seen %v, want %v", got, hashes)
	}
	for i, h := range hashes {
		if got[i] != h || !b.seenEvent(h) {
			t.Errorf("seen %v, want %v", got, hashes)
		}
	}
	if b.seenEvent(1 << 60) {
		t.Errorf("an event never applied is seen")
	}
	for _, c := range []struct {
		name      string
		got, want decimal.Decimal
	}{{"amount", b.amountDec(), amount}, {"refunded", b.refundedDec(), refunded}, {"rate", b.rateDec(), rate}} {
		if !c.got.Equal(c.want) || c.got.Exponent() != c.want.Exponent() {
			t.Errorf("%s %s (exp %d), want %s (exp %d)", c.name, c.got, c.got.Exponent(), c.want, c.want.Exponent())
		}
	}
}

// TestBookSetterClearsBig: a decimal that fits replaces a big one in place.
func TestBookSetterClearsBig(t *testing.T) {
	b := newBook("b", "p")
	b.setAmount(decimal.RequireFromString("123456789012345678901234"))
	if b.big&bigAmount == 0 {
		t.Fatalf("a 24-digit amount is not kept big")
	}
	b.setAmount(decimal.RequireFromString("12.5"))
	if b.big != 0 || !b.x.amount.IsZero() || b.amountDec().String() != "12.5" {
		t.Errorf("big %b, x.amount %s, amount %s", b.big, b.x.amount, b.amountDec())
	}
}

// TestSubIntMulRoundInt pins the int64 steps of kept at their edges against the decimals.
func TestSubIntMulRoundInt(t *testing.T) {
	tests := []struct {
		a, r       int64 // amount a×10^ae, refunded r×10^re
		ae, re     int8
		rate       int64 // rate×10^rateE
		rateE, exp int32
		wantOK     bool
	}{
		{12050, 0, -2, 0, 1, -1, 2, true},
		{1205, 2025, -1, -2, 123456, -6, 2, true},
		{9999999999999999, 1, -4, -4, 999999999999999999, -18, 4, false}, // product beyond int64
		{1, 0, 18, 0, 1, 0, 2, false},                                    // 10^20 units of 10^-2: beyond int64
		{1, 0, 16, 0, 1, 0, 2, true},
		{5, 1, 0, 19, 1, 0, 0, false},  // refunded scaled beyond 10^18
		{25, 0, -1, 0, 5, -1, 0, true}, // 1.25 → 1 (half-even)
		{35, 0, -1, 0, 5, -1, 0, true}, // 1.75 → 2
	}
	for _, tt := range tests {
		left, le, ok := subInt(tt.a, tt.ae, tt.r, tt.re)
		var q int64
		if ok {
			q, ok = mulRoundInt(left, int32(le), tt.rate, tt.rateE, tt.exp)
		}
		if ok != tt.wantOK {
			t.Errorf("%+v: ok %v, want %v", tt, ok, tt.wantOK)
			continue
		}
		if !ok {
			continue
		}
		want := decimal.New(tt.a, int32(tt.ae)).Sub(decimal.New(tt.r, int32(tt.re))).
			Mul(decimal.New(tt.rate, tt.rateE)).RoundBank(tt.exp)
		if got := decimal.New(q, -tt.exp); !got.Equal(want) {
			t.Errorf("%+v: %s, want %s", tt, got, want)
		}
	}
}

// TestRateScaleBounded: a rate written with more places than RatePlaces (all zeros, which
// the bound accepts) is kept at RatePlaces, so a booking judged at it still encodes into a
// changelog value that restores (the codec refuses exponents below −32) and the entry's rate
// has the scale of the sink's columns.
func TestRateScaleBounded(t *testing.T) {
	for _, rate := range []string{"0.000000000000000000000000000000000000", "0.10000000000000000000000000000000000000000", "0.0700000"} {
		r := NewRates()
		if err := r.Apply(schemas.Business{EventID: "z1", BusinessID: "Z", ReferralRate: decimal.RequireFromString(rate),
			OccurredAt: at(-100)}); err != nil {
			t.Fatalf("%s: %v", rate, err)
		}
		e, err := New(Config{}, r)
		if err != nil {
			t.Fatal(err)
		}
		var s State
		if _, err := apply(e, &s, enroll("e1", "Z", 0)); err != nil {
			t.Fatal(err)
		}
		res, err := apply(e, &s, completed("k1", "b1", "P", "10.00", "EUR", 5))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Commissions {
			if c.Rate.Exponent() < -schemas.DefaultRatePlaces || !c.Rate.Equal(decimal.RequireFromString(rate)) {
				t.Errorf("%s: entry rate %s (exponent %d)", rate, c.Rate, c.Rate.Exponent())
			}
		}
		enc, _ := s.MarshalBinary()
		var u State
		if err := u.UnmarshalBinary(enc); err != nil {
			t.Errorf("%s: the state does not restore: %v", rate, err)
		}
	}
}

// TestSplitDecimalMatchesTextForm pins the compact form of a decimal to what the changelog's
// text form reads back as (FuzzUnmarshalBinary found 1762290434604843450e-25 kept big, written
// as text, read back compact: a state whose round trip changed its bytes).
func TestSplitDecimalMatchesTextForm(t *testing.T) {
	tests := []struct {
		name string
		in   decimal.Decimal
		c    int64
		e    int8
		fits bool
	}{
		{"fits as it is", decimal.New(10000, -2), 10000, -2, true},
		{"fits as it is, trailing zeros kept", decimal.New(1230, -3), 1230, -3, true},
		{"18 digits", decimal.New(999999999999999999, -4), 999999999999999999, -4, true},
		{"19 digits with a trailing fraction zero: the text's 18", decimal.New(1762290434604843450, -25), 176229043460484345, -24, true},
		{"19 digits, no trailing zero", decimal.New(1762290434604843451, -25), 0, 0, false},
		{"19-digit integer: the text keeps its zeros", decimal.New(1000000000000000000, 0), 0, 0, false},
		{"exponent beyond int8, integer text too long", decimal.New(1, 200), 0, 0, false},
		{"zero", decimal.Zero, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, e, ok := splitDecimal(tt.in)
			if ok != tt.fits || c != tt.c || e != tt.e {
				t.Fatalf("splitDecimal(%s) = %d, %d, %v; want %d, %d, %v", tt.in, c, e, ok, tt.c, tt.e, tt.fits)
			}
			if !ok {
				return
			}
			if got := decimal.New(c, int32(e)); !got.Equal(tt.in) {
				t.Fatalf("split %s reads back as %s", tt.in, got)
			}
		})
	}
}
