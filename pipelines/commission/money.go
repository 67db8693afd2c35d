package commission

import (
	"math"
	"math/bits"

	"github.com/shopspring/decimal"
)

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// mulRound returns x × rate rounded half-even to exp decimal places: exactly
// x.Mul(rate).RoundBank(exp), computed in int64 when the operands allow (the commission path),
// else with big numbers.
func mulRound(x, rate decimal.Decimal, exp int32) decimal.Decimal {
	if x.NumDigits() <= 18 && rate.NumDigits() <= 18 {
		a, r := x.CoefficientInt64(), rate.CoefficientInt64()
		if a >= 0 && r >= 0 {
			hi, lo := bits.Mul64(uint64(a), uint64(r))
			if hi == 0 && lo <= math.MaxInt64 {
				p := int64(lo)
				shift := x.Exponent() + rate.Exponent() + exp // p×10^shift units of 10^-exp
				switch {
				case shift >= 0 && shift <= 18:
					if hi, lo := bits.Mul64(uint64(p), uint64(pow10[shift])); hi == 0 && lo <= math.MaxInt64 {
						return decimal.New(int64(lo), -exp)
					}
				case shift < 0 && shift >= -18:
					d := pow10[-shift]
					q, rem := p/d, p%d
					if half := d / 2; rem > half || (rem == half && q&1 == 1) {
						q++
					}
					return decimal.New(q, -exp)
				}
			}
		}
	}
	return x.Mul(rate).RoundBank(exp)
}
