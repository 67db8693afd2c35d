package clv

import (
	"math"
)

// Customer is one client's BG/NBD summary: X repeat purchases, recency Tx and age T in weeks
// (see the package doc). 0 ≤ Tx ≤ T; Tx = 0 when X = 0.
type Customer struct {
	X  int
	Tx float64
	T  float64
}

// Validate reports a summary outside the model's domain.
func (c Customer) Validate() error {
	switch {
	case c.X < 0:
		return invalid("repeat purchases %d < 0", c.X)
	case !finite(c.Tx) || !finite(c.T):
		return invalid("recency %v or age %v not finite", c.Tx, c.T)
	case c.Tx < 0 || c.T < 0:
		return invalid("recency %v or age %v negative", c.Tx, c.T)
	case c.Tx > c.T:
		return invalid("recency %v beyond age %v", c.Tx, c.T)
	case c.X == 0 && c.Tx != 0:
		return invalid("recency %v without repeat purchases", c.Tx)
	}
	return nil
}

// BGNBD holds the four parameters: purchase rates λ ~ Gamma(shape R, rate Alpha), dropout
// probabilities p ~ Beta(A, B).
type BGNBD struct {
	R, Alpha, A, B float64
}

// Validate reports parameters that are not positive and finite.
func (m BGNBD) Validate() error {
	for _, v := range [...]float64{m.R, m.Alpha, m.A, m.B} {
		if !finite(v) || v <= 0 {
			return invalid("BG/NBD parameters %+v not all positive and finite", m)
		}
	}
	return nil
}

// LogLikelihood is the sum over cs of each client's log-likelihood (package doc). It does not
// validate cs; FitBGNBD does.
func (m BGNBD) LogLikelihood(cs []Customer) float64 {
	var ll float64
	for _, c := range cs {
		ll += m.logLik(c)
	}
	return ll
}

// logLik is one client's log-likelihood.
func (m BGNBD) logLik(c Customer) float64 {
	x := float64(c.X)
	lgRx, _ := math.Lgamma(m.R + x)
	lgR, _ := math.Lgamma(m.R)
	lgBx, _ := math.Lgamma(m.B + x)
	lgB, _ := math.Lgamma(m.B)
	lgAB, _ := math.Lgamma(m.A + m.B)
	lgABx, _ := math.Lgamma(m.A + m.B + x)
	a1 := lgRx - lgR + m.R*math.Log(m.Alpha)
	a2 := lgAB + lgBx - lgB - lgABx
	a3 := -(m.R + x) * math.Log(m.Alpha+c.T)
	if c.X == 0 {
		return a1 + a2 + a3
	}
	a4 := math.Log(m.A) - math.Log(m.B+x-1) - (m.R+x)*math.Log(m.Alpha+c.Tx)
	return a1 + a2 + logAddExp(a3, a4)
}

// PAlive is the probability that the client is still alive at age T.
func (m BGNBD) PAlive(c Customer) float64 {
	if c.X == 0 {
		return 1
	}
	x := float64(c.X)
	// log of the odds of having died after the last purchase.
	lo := math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+c.T)-math.Log(m.Alpha+c.Tx))
	return logistic(-lo)
}

// ExpectedPurchases is E[number of purchases in (T, T+tau] | x, t_x, T], tau in weeks ≥ 0.
func (m BGNBD) ExpectedPurchases(c Customer, tau float64) float64 {
	if tau <= 0 {
		return 0
	}
	x := float64(c.X)
	z := tau / (m.Alpha + c.T + tau)
	// (a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z)], see hyp2f1.go.
	g := (m.A + m.B + x - 1) * oneMinusScaledHyp2F1(m.A+m.B-1-m.R, m.A, m.A+m.B+x-1, z)
	return m.PAlive(c) * g
}

// UnconditionalPurchases is E[X(t)], the expected purchases of a new client in its first t
// weeks: (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))].
func (m BGNBD) UnconditionalPurchases(t float64) float64 {
	if t <= 0 {
		return 0
	}
	z := t / (m.Alpha + t)
	// The x = 0, T = 0 case of the conditional expectation, with P(alive) = 1.
	return (m.A + m.B - 1) * oneMinusScaledHyp2F1(m.A+m.B-1-m.R, m.A, m.A+m.B-1, z)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// logAddExp is log(e^a + e^b) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// logistic is 1/(1+e^−v) without overflow.
func logistic(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}
