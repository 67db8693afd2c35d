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
		if q, ok := mulRoundInt(x.CoefficientInt64(), x.Exponent(), rate.CoefficientInt64(), rate.Exponent(), exp); ok {
			return decimal.New(q, -exp)
		}
	}
	return x.Mul(rate).RoundBank(exp)
}

// mulRoundInt is mulRound of a×10^ae and r×10^re in int64: the coefficient of the result at
// exponent −exp, ok false when an operand is negative or a step would overflow.
func mulRoundInt(a int64, ae int32, r int64, re int32, exp int32) (int64, bool) {
	if a < 0 || r < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(r))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	p := int64(lo)
	shift := ae + re + exp // p×10^shift units of 10^-exp
	switch {
	case shift >= 0 && shift <= 18:
		if hi, lo := bits.Mul64(uint64(p), uint64(pow10[shift])); hi == 0 && lo <= math.MaxInt64 {
			return int64(lo), true
		}
	case shift < 0 && shift >= -18:
		d := pow10[-shift]
		q, rem := p/d, p%d
		if half := d / 2; rem > half || (rem == half && q&1 == 1) {
			q++
		}
		return q, true
	}
	return 0, false
}

// subInt is a×10^ae − r×10^re as a coefficient and exponent (the smaller one), ok false on
// overflow.
func subInt(a int64, ae int8, r int64, re int8) (int64, int8, bool) {
	if r == 0 {
		return a, ae, true
	}
	e := min(ae, re)
	a, ok1 := scaleInt(a, ae-e)
	r, ok2 := scaleInt(r, re-e)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return a - r, e, true // both non-negative: no overflow
}

// scaleInt is c×10^k for 0 ≤ k, ok false on overflow.
func scaleInt(c int64, k int8) (int64, bool) {
	if k == 0 {
		return c, true
	}
	if c < 0 || k > 18 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(c), uint64(pow10[k]))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}
