package commission

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func TestMulRoundBoundaries(t *testing.T) {
	for _, tt := range []struct {
		x, rate string
		exp     int32
		want    string
	}{
		{"2.50", "0.05", 2, "0.12"}, // 0.125
		{"2.70", "0.05", 2, "0.14"}, // 0.135
		{"2.30", "0.05", 2, "0.12"}, // 0.115
		{"2.502", "0.05", 2, "0.13"},
		{"2.498", "0.05", 2, "0.12"},
		{"1250", "0.05", 0, "62"},
		{"1350", "0.05", 0, "68"},
		{"0.250", "0.05", 3, "0.012"},
		{"0.270", "0.05", 3, "0.014"},
		{"100", "0", 2, "0"},
		{"0", "0.07", 2, "0"},
		{"1", "1", 4, "1"},
		{"12345678901234567.89", "0.07", 2, "864197523086419.75"},        // 864197523086419.7523
		{"99999999999999999999.99", "0.05", 2, "5000000000000000000.00"}, // big path
		{"0.0000000000000000001", "0.5", 2, "0"},
	} {
		got := mulRound(dec(tt.x), dec(tt.rate), tt.exp)
		if !got.Equal(dec(tt.want)) {
			t.Errorf("mulRound(%s, %s, %d) = %s, want %s", tt.x, tt.rate, tt.exp, got, tt.want)
		}
	}
}

// The int64 fast path agrees with decimal's Mul + RoundBank everywhere.
func TestMulRoundMatchesDecimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := decimal.New(rapid.Int64Range(0, 1<<62).Draw(t, "x"), int32(rapid.IntRange(-12, 3).Draw(t, "xe")))
		r := decimal.New(rapid.Int64Range(0, 1<<40).Draw(t, "r"), int32(rapid.IntRange(-14, 0).Draw(t, "re")))
		exp := int32(rapid.IntRange(0, 4).Draw(t, "exp"))
		want := x.Mul(r).RoundBank(exp)
		if got := mulRound(x, r, exp); !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Fatalf("mulRound(%s, %s, %d) = %s (exp %d), want %s (exp %d)", x, r, exp, got, got.Exponent(), want, want.Exponent())
		}
	})
}
