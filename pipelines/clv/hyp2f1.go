package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// oneMinusScaledHyp2F1 returns
//
//	[1 − (1−z)^(a−1) · 2F1(ap, a−1; c; z)] / (a−1),   0 ≤ z < 1,
//
// the bracket of BG/NBD's conditional expectation after Euler's transformation (package doc),
// with ap = a+b−1−r and c = a+b+x−1. Writing ε = a−1 and (ε)_n = ε · (a)_(n−1),
//
//	2F1(ap, ε; c; z) = 1 + ε · H,   H = Σ_{n≥1} (ap)_n (a)_(n−1) / ((c)_n n!) · z^n,
//
// so the value is −expm1(ε·ln(1−z))/ε − (1−z)^ε · H: no division by a−1 is left, a = 1 is the
// limit −ln(1−z) − H, and for x large c is large and H small. H is summed term by term until
// the geometric bound on its tail is below 1e-16 of the sum; if that takes more than
// maxSeriesTerms (z very close to 1), gonum's mathext.Hypergeo (Cephes' hyp2f1, which
// transforms z near 1) gives 2F1 and the value is formed directly.
func oneMinusScaledHyp2F1(ap, a, c, z float64) float64 {
	eps := a - 1
	l1z := math.Log1p(-z)
	var head float64 // [1 − (1−z)^ε] / ε
	if eps == 0 {
		head = -l1z
	} else {
		head = -math.Expm1(eps*l1z) / eps
	}
	if z == 0 {
		return 0
	}
	h, ok := seriesH(ap, a, c, z)
	if !ok {
		return (1 - math.Exp(eps*l1z)*mathext.Hypergeo(ap, eps, c, z)) / eps
	}
	return head - math.Exp(eps*l1z)*h
}

const maxSeriesTerms = 200000

// seriesH sums H of oneMinusScaledHyp2F1; false when it has not converged in maxSeriesTerms.
func seriesH(ap, a, c, z float64) (float64, bool) {
	t := ap / c * z
	sum := t
	for n := 1.0; n < maxSeriesTerms; n++ {
		if t == 0 {
			return sum, true // ap a non-positive integer: the series terminates
		}
		ratio := (ap + n) * (a + n - 1) / ((c + n) * (n + 1)) * z
		t *= ratio
		sum += t
		r := math.Abs(ratio)
		if r < 1 && math.Abs(t)*r/(1-r) <= 1e-16*math.Abs(sum) {
			return sum, true
		}
	}
	return 0, false
}
