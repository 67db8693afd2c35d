package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// BGNBDFit is a maximum-likelihood fit of BG/NBD.
type BGNBDFit struct {
	Params        BGNBD
	LogLikelihood float64 // at Params, summed over the clients
	Clients       int
	Repeaters     int // clients with x > 0
	Iterations    int // BFGS major iterations
}

// GammaGammaFit is a maximum-likelihood fit of Gamma-Gamma over the clients with x > 0 and
// zbar > 0 (the others carry no information on spend).
type GammaGammaFit struct {
	Params        GammaGamma
	LogLikelihood float64
	Clients       int
	Iterations    int
}

// xCache groups clients by repeat-purchase count: the log-gamma and digamma terms depend on x
// only, so one evaluation computes them once per distinct x, not once per client.
type xCache struct {
	idx []int32   // client → index into xs
	xs  []float64 // distinct counts
}

func newXCache(n int, x func(i int) int) xCache {
	pos := map[int]int32{}
	c := xCache{idx: make([]int32, n)}
	for i := 0; i < n; i++ {
		v := x(i)
		j, ok := pos[v]
		if !ok {
			j = int32(len(c.xs))
			pos[v] = j
			c.xs = append(c.xs, float64(v))
		}
		c.idx[i] = j
	}
	return c
}

// FitBGNBD fits BG/NBD to cs by maximum likelihood. It needs at least one client with x > 0.
func FitBGNBD(cs []Customer) (BGNBDFit, error) {
	repeaters := 0
	for i, c := range cs {
		if err := c.Validate(); err != nil {
			return BGNBDFit{}, fmt.Errorf("validating client %d: %w", i, err)
		}
		if c.X > 0 {
			repeaters++
		}
	}
	if repeaters == 0 {
		return BGNBDFit{}, invalid("no client with a repeat purchase among %d", len(cs))
	}
	u, iters, err := minimize(bgnbdObjective(cs), []float64{0, 0, 0, 0})
	if err != nil {
		return BGNBDFit{}, fmt.Errorf("fitting BG/NBD to %d clients: %w", len(cs), err)
	}
	m := BGNBD{R: math.Exp(u[0]), Alpha: math.Exp(u[1]), A: math.Exp(u[2]), B: math.Exp(u[3])}
	if err := m.Validate(); err != nil {
		return BGNBDFit{}, fmt.Errorf("fitting BG/NBD to %d clients: %w", len(cs), err)
	}
	if m.A+m.B > maxDropoutShape {
		// The likelihood is still rising towards a, b → ∞ with a/(a+b) fixed: the data show
		// no dropout heterogeneity, and the 2F1 series of the expectation does not converge
		// in reasonable time there. Refuse rather than score with a boundary estimate.
		return BGNBDFit{}, fmt.Errorf("fitting BG/NBD to %d clients: %w", len(cs),
			invalid("dropout parameters at the boundary (a = %.4g, b = %.4g)", m.A, m.B))
	}
	return BGNBDFit{Params: m, LogLikelihood: m.LogLikelihood(cs), Clients: len(cs), Repeaters: repeaters, Iterations: iters}, nil
}

// bgnbdTerms are the per-x terms of the BG/NBD likelihood and its gradient, one slot per
// distinct x, refilled at every evaluation.
type bgnbdTerms struct {
	lgRx, lgBx, lgABx, psRx, psBx, psABx, lBx1 []float64
}

func newBGNBDTerms(n int) bgnbdTerms {
	return bgnbdTerms{
		lgRx: make([]float64, n), lgBx: make([]float64, n), lgABx: make([]float64, n),
		psRx: make([]float64, n), psBx: make([]float64, n), psABx: make([]float64, n),
		lBx1: make([]float64, n),
	}
}

// fill computes the terms of every x in xs at r, a and b (the digammas only with grad).
func (t bgnbdTerms) fill(xs []float64, r, a, b float64, grad bool) {
	for j, x := range xs {
		t.lgRx[j], _ = math.Lgamma(r + x)
		t.lgBx[j], _ = math.Lgamma(b + x)
		t.lgABx[j], _ = math.Lgamma(a + b + x)
		t.lBx1[j] = math.Log(b + x - 1) // NaN for x = 0, never used there
		if grad {
			t.psRx[j], t.psBx[j], t.psABx[j] = digamma(r+x), digamma(b+x), digamma(a+b+x)
		}
	}
}

// bgnbdObjective returns −LL/n of cs at θ = exp(u) (r, α, a, b), and writes its gradient in u
// into grad when grad is not nil. The chain rule of the log-parameterisation makes each
// partial θ · ∂/∂θ; the digamma terms are d ln Γ.
func bgnbdObjective(cs []Customer) func(u, grad []float64) float64 {
	xc := newXCache(len(cs), func(i int) int { return cs[i].X })
	t := newBGNBDTerms(len(xc.xs))
	lgRx, lgBx, lgABx, psRx, psBx, psABx, lBx1 := t.lgRx, t.lgBx, t.lgABx, t.psRx, t.psBx, t.psABx, t.lBx1
	scale := 1 / float64(len(cs))

	return func(u []float64, grad []float64) float64 {
		r, alpha, a, b := math.Exp(u[0]), math.Exp(u[1]), math.Exp(u[2]), math.Exp(u[3])
		lgR, _ := math.Lgamma(r)
		lgB, _ := math.Lgamma(b)
		lgAB, _ := math.Lgamma(a + b)
		lAlpha, la := math.Log(alpha), math.Log(a)
		t.fill(xc.xs, r, a, b, grad != nil)
		var psR, psB, psAB float64
		if grad != nil {
			psR, psB, psAB = digamma(r), digamma(b), digamma(a+b)
		}
		var ll float64
		var g [4]float64
		for i, c := range cs {
			j := xc.idx[i]
			x := xc.xs[j]
			lT := math.Log(alpha + c.T)
			a3 := -(r + x) * lT
			head := lgRx[j] - lgR + r*lAlpha + lgAB + lgBx[j] - lgB - lgABx[j]
			w4, lTx := 0.0, 0.0
			if c.X == 0 {
				ll += head + a3
			} else {
				lTx = math.Log(alpha + c.Tx)
				a4 := la - lBx1[j] - (r+x)*lTx
				ll += head + logAddExp(a3, a4)
				w4 = logistic(a4 - a3)
			}
			if grad == nil {
				continue
			}
			w3 := 1 - w4
			g[0] += psRx[j] - psR + lAlpha - w3*lT - w4*lTx
			dAlpha := r/alpha - w3*(r+x)/(alpha+c.T)
			da := psAB - psABx[j]
			db := psAB + psBx[j] - psB - psABx[j]
			if c.X > 0 {
				dAlpha -= w4 * (r + x) / (alpha + c.Tx)
				da += w4 / a
				db -= w4 / (b + x - 1)
			}
			g[1] += dAlpha
			g[2] += da
			g[3] += db
		}
		if grad != nil {
			grad[0] = -r * g[0] * scale
			grad[1] = -alpha * g[1] * scale
			grad[2] = -a * g[2] * scale
			grad[3] = -b * g[3] * scale
		}
		return -ll * scale
	}
}

// maxDropoutShape bounds a + b of an accepted BG/NBD fit.
const maxDropoutShape = 1e4

// minimize runs gonum's BFGS on f (value, and gradient into grad when non-nil) from u0.
func minimize(f func(u, grad []float64) float64, u0 []float64) ([]float64, int, error) {
	p := optimize.Problem{
		Func: func(u []float64) float64 { return f(u, nil) },
		Grad: func(grad, u []float64) { f(u, grad) },
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
		MajorIterations:   1000,
	}
	res, err := optimize.Minimize(p, u0, settings, &optimize.BFGS{})
	if err != nil && res == nil {
		return nil, 0, err
	}
	if err != nil {
		// A line search that cannot improve any more at the optimum is not a failure when
		// the gradient is already small.
		var g = make([]float64, len(u0))
		f(res.X, g)
		if infNorm(g) > 1e-5 {
			return nil, 0, fmt.Errorf("optimizer stopped (%v) with gradient %.3g: %w", res.Status, infNorm(g), err)
		}
	}
	if res.Status == optimize.IterationLimit {
		return nil, 0, errors.New("optimizer hit its iteration limit")
	}
	for _, v := range res.X {
		if !finite(v) {
			return nil, 0, errors.New("optimizer diverged")
		}
	}
	return res.X, res.Stats.MajorIterations, nil
}

func infNorm(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
