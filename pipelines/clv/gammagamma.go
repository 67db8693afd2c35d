package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Spend is one client's Gamma-Gamma summary: X repeat purchases and the mean value Mean of
// those purchases (a float: an estimate's input, not a ledger amount).
type Spend struct {
	X    int
	Mean float64
}

// GammaGamma holds p (the shape of each purchase's value), and q, γ (shape and rate of the
// Gamma distribution of the clients' value rates ν).
type GammaGamma struct {
	P, Q, Gamma float64
}

// Validate reports parameters that are not positive and finite.
func (m GammaGamma) Validate() error {
	for _, v := range [...]float64{m.P, m.Q, m.Gamma} {
		if !finite(v) || v <= 0 {
			return invalid("Gamma-Gamma parameters %+v not all positive and finite", m)
		}
	}
	return nil
}

// usable reports whether s carries information for the fit.
func (s Spend) usable() bool { return s.X > 0 && s.Mean > 0 && finite(s.Mean) }

// LogLikelihood sums the marginal log-likelihood of the usable clients of ss.
func (m GammaGamma) LogLikelihood(ss []Spend) float64 {
	var ll float64
	for _, s := range ss {
		if !s.usable() {
			continue
		}
		x := float64(s.X)
		px := m.P * x
		lg1, _ := math.Lgamma(px + m.Q)
		lg2, _ := math.Lgamma(px)
		lg3, _ := math.Lgamma(m.Q)
		ll += lg1 - lg2 - lg3 + m.Q*math.Log(m.Gamma) + (px-1)*math.Log(s.Mean) + px*math.Log(x) -
			(px+m.Q)*math.Log(x*s.Mean+m.Gamma)
	}
	return ll
}

// PopulationMean is the expected value of a purchase of a client never seen, p·γ/(q−1); it
// exists only for q > 1 (false otherwise).
func (m GammaGamma) PopulationMean() (float64, bool) {
	if m.Q <= 1 {
		return 0, false
	}
	return m.P * m.Gamma / (m.Q - 1), true
}

// ExpectedValue is E[value of a purchase | x, zbar] (package doc); false when q ≤ 1, where
// the posterior mean does not exist.
func (m GammaGamma) ExpectedValue(s Spend) (float64, bool) {
	if m.Q <= 1 {
		return 0, false
	}
	if s.X <= 0 {
		return m.PopulationMean()
	}
	px := m.P * float64(s.X)
	return m.P * (m.Gamma + float64(s.X)*s.Mean) / (px + m.Q - 1), true
}

// FitGammaGamma fits Gamma-Gamma by maximum likelihood to the clients of ss with x > 0 and a
// positive mean (the others are ignored). It needs at least two of them.
func FitGammaGamma(ss []Spend) (GammaGammaFit, error) {
	var use []Spend
	for i, s := range ss {
		if s.X < 0 || !finite(s.Mean) || s.Mean < 0 {
			return GammaGammaFit{}, fmt.Errorf("validating client %d: %w", i, invalid("spend %+v outside the domain", s))
		}
		if s.usable() {
			use = append(use, s)
		}
	}
	if len(use) < 2 {
		return GammaGammaFit{}, invalid("%d clients with repeat purchases of positive value, need 2", len(use))
	}
	u, iters, err := minimize(gammaGammaObjective(use), []float64{0, 0, 0})
	if err != nil {
		return GammaGammaFit{}, fmt.Errorf("fitting Gamma-Gamma to %d clients: %w", len(use), err)
	}
	m := GammaGamma{P: math.Exp(u[0]), Q: math.Exp(u[1]), Gamma: math.Exp(u[2])}
	if err := m.Validate(); err != nil {
		return GammaGammaFit{}, fmt.Errorf("fitting Gamma-Gamma to %d clients: %w", len(use), err)
	}
	return GammaGammaFit{Params: m, LogLikelihood: m.LogLikelihood(use), Clients: len(use), Iterations: iters}, nil
}

// gammaGammaObjective returns −LL/n of the usable clients use at θ = exp(u) (p, q, γ), and
// its gradient in u into grad when grad is not nil.
func gammaGammaObjective(use []Spend) func(u, grad []float64) float64 {
	xc := newXCache(len(use), func(i int) int { return use[i].X })
	lx := make([]float64, len(xc.xs))
	for j, x := range xc.xs {
		lx[j] = math.Log(x)
	}
	lm := make([]float64, len(use))
	for i, s := range use {
		lm[i] = math.Log(s.Mean)
	}
	nx := len(xc.xs)
	lg, lgpx, ps, pspx := make([]float64, nx), make([]float64, nx), make([]float64, nx), make([]float64, nx)
	scale := 1 / float64(len(use))
	return func(u, grad []float64) float64 {
		p, q, gam := math.Exp(u[0]), math.Exp(u[1]), math.Exp(u[2])
		lgQ, _ := math.Lgamma(q)
		lGam := math.Log(gam)
		for j, x := range xc.xs {
			lg[j], _ = math.Lgamma(p*x + q)
			lgpx[j], _ = math.Lgamma(p * x)
			if grad != nil {
				ps[j], pspx[j] = digamma(p*x+q), digamma(p*x)
			}
		}
		var psQ float64
		if grad != nil {
			psQ = digamma(q)
		}
		var ll, gp, gq, gg float64
		for i, s := range use {
			j := xc.idx[i]
			x := xc.xs[j]
			px := p * x
			lden := math.Log(x*s.Mean + gam)
			ll += lg[j] - lgpx[j] - lgQ + q*lGam + (px-1)*lm[i] + px*lx[j] - (px+q)*lden
			if grad != nil {
				gp += x * (ps[j] - pspx[j] + lm[i] + lx[j] - lden)
				gq += ps[j] - psQ + lGam - lden
				gg += q/gam - (px+q)/(x*s.Mean+gam)
			}
		}
		if grad != nil {
			grad[0] = -p * gp * scale
			grad[1] = -q * gq * scale
			grad[2] = -gam * gg * scale
		}
		return -ll * scale
	}
}

func digamma(v float64) float64 { return mathext.Digamma(v) }
