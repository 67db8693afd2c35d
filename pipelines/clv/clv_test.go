package clv

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mathext"
)

var cdnowParams = BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}

// textbook is E[Y(τ)] as printed in Fader, Hardie & Lee (2005), eq. 10, with gonum's 2F1:
// the reference for moderate x, where the direct form is still accurate.
func textbook(m BGNBD, c Customer, tau float64) float64 {
	x := float64(c.X)
	z := tau / (m.Alpha + c.T + tau)
	f := mathext.Hypergeo(m.R+x, m.B+x, m.A+m.B+x-1, z)
	num := (m.A + m.B + x - 1) / (m.A - 1) * (1 - math.Pow((m.Alpha+c.T)/(m.Alpha+c.T+tau), m.R+x)*f)
	den := 1.0
	if c.X > 0 {
		den += m.A / (m.B + x - 1) * math.Pow((m.Alpha+c.T)/(m.Alpha+c.Tx), m.R+x)
	}
	return num / den
}

func TestExpectedPurchasesMatchesTextbook(t *testing.T) {
	for _, tc := range []struct {
		m   BGNBD
		c   Customer
		tau float64
	}{
		{cdnowParams, Customer{X: 2, Tx: 30.43, T: 38.86}, 39},
		{cdnowParams, Customer{X: 0, Tx: 0, T: 38.86}, 39},
		{cdnowParams, Customer{X: 7, Tx: 29.43, T: 35.0}, 52},
		{cdnowParams, Customer{X: 1, Tx: 1, T: 2}, 0.5},
		{BGNBD{R: 1.5, Alpha: 20, A: 2.5, B: 4}, Customer{X: 5, Tx: 40, T: 52}, 52},
		{BGNBD{R: 0.5, Alpha: 2, A: 0.3, B: 0.8}, Customer{X: 3, Tx: 10, T: 30}, 13},
		{BGNBD{R: 0.5, Alpha: 0.1, A: 3, B: 0.5}, Customer{X: 0, Tx: 0, T: 0.3}, 52}, // z near 1
	} {
		got, want := tc.m.ExpectedPurchases(tc.c, tc.tau), textbook(tc.m, tc.c, tc.tau)
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%+v %+v τ=%v: E = %.12g, textbook %.12g", tc.m, tc.c, tc.tau, got, want)
		}
	}
}

func TestExpectedPurchasesEdges(t *testing.T) {
	c := Customer{X: 3, Tx: 20, T: 30}
	// a = 1 is a removable singularity: the value is continuous there.
	m1 := BGNBD{R: 0.4, Alpha: 5, A: 1, B: 2}
	at := m1.ExpectedPurchases(c, 26)
	for _, d := range []float64{1e-6, -1e-6} {
		md := m1
		md.A += d
		if near := md.ExpectedPurchases(c, 26); math.Abs(near-at) > 1e-5 || !finite(at) {
			t.Errorf("a=1: E = %v, at a=1%+g: %v", at, d, near)
		}
	}
	// Large x and T: finite, non-negative, and P(alive) in [0, 1].
	for _, c := range []Customer{
		{X: 5000, Tx: 5199, T: 5200},
		{X: 100000, Tx: 1e6, T: 1e6},
		{X: 300, Tx: 10, T: 1e5},
		{X: 0, Tx: 0, T: 1e7},
	} {
		p, e := cdnowParams.PAlive(c), cdnowParams.ExpectedPurchases(c, 52)
		ll := cdnowParams.LogLikelihood([]Customer{c})
		if !finite(e) || e < 0 || !(p >= 0 && p <= 1) || !finite(ll) {
			t.Errorf("%+v: P(alive) %v, E[Y(52)] %v, LL %v", c, p, e, ll)
		}
	}
	if got := cdnowParams.ExpectedPurchases(c, 0); got != 0 {
		t.Errorf("E[Y(0)] = %v", got)
	}
	// Monotone in τ.
	prev := 0.0
	for tau := 1.0; tau < 200; tau *= 1.5 {
		e := cdnowParams.ExpectedPurchases(c, tau)
		if e < prev {
			t.Errorf("E[Y(%v)] = %v < E at a shorter horizon %v", tau, e, prev)
		}
		prev = e
	}
	// A client with x = 0 is alive with certainty; a long-silent heavy buyer hardly.
	if p := cdnowParams.PAlive(Customer{T: 30}); p != 1 {
		t.Errorf("P(alive | x=0) = %v", p)
	}
	if p := cdnowParams.PAlive(Customer{X: 20, Tx: 5, T: 50}); p > 1e-6 {
		t.Errorf("P(alive) of a heavy buyer silent for 45 weeks = %v", p)
	}
}

func TestUnconditionalPurchases(t *testing.T) {
	// E[X(t)] of a new client is the x = 0, T = 0 conditional expectation; cross-check it
	// against the textbook formula (FHL 2005 eq. 9) with gonum's 2F1.
	m := cdnowParams
	for _, tt := range []float64{1, 10, 39, 78} {
		z := tt / (m.Alpha + tt)
		want := (m.A + m.B - 1) / (m.A - 1) * (1 - math.Pow(m.Alpha/(m.Alpha+tt), m.R)*mathext.Hypergeo(m.R, m.B, m.A+m.B-1, z))
		if got := m.UnconditionalPurchases(tt); math.Abs(got-want) > 1e-9 {
			t.Errorf("E[X(%v)] = %v, textbook %v", tt, got, want)
		}
	}
}

func TestObjectivesMatchLikelihoodAndGradient(t *testing.T) {
	cs := []Customer{{X: 0, T: 30}, {X: 1, Tx: 2, T: 10}, {X: 4, Tx: 20, T: 25}, {X: 4, Tx: 3, T: 40}, {X: 12, Tx: 50, T: 52}}
	f := bgnbdObjective(cs)
	u := []float64{math.Log(0.3), math.Log(4), math.Log(0.8), math.Log(2.5)}
	m := BGNBD{R: 0.3, Alpha: 4, A: 0.8, B: 2.5}
	if got, want := f(u, nil), -m.LogLikelihood(cs)/float64(len(cs)); math.Abs(got-want) > 1e-12 {
		t.Errorf("BG/NBD objective %v, −LL/n %v", got, want)
	}
	checkGrad(t, "BG/NBD", f, u)

	ss := []Spend{{X: 1, Mean: 10}, {X: 3, Mean: 22.5}, {X: 3, Mean: 40}, {X: 9, Mean: 15}}
	g := gammaGammaObjective(ss)
	v := []float64{math.Log(6), math.Log(3.7), math.Log(15)}
	gm := GammaGamma{P: 6, Q: 3.7, Gamma: 15}
	if got, want := g(v, nil), -gm.LogLikelihood(ss)/float64(len(ss)); math.Abs(got-want) > 1e-12 {
		t.Errorf("Gamma-Gamma objective %v, −LL/n %v", got, want)
	}
	checkGrad(t, "Gamma-Gamma", g, v)
}

func checkGrad(t *testing.T, name string, f func(u, grad []float64) float64, u []float64) {
	t.Helper()
	grad := make([]float64, len(u))
	f(u, grad)
	num := fd.Gradient(nil, func(u []float64) float64 { return f(u, nil) }, u, &fd.Settings{Formula: fd.Central})
	for i := range u {
		if math.Abs(grad[i]-num[i]) > 1e-6 {
			t.Errorf("%s gradient[%d] = %.9g, finite differences %.9g", name, i, grad[i], num[i])
		}
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []Customer{
		{X: -1}, {X: 1, Tx: 5, T: 4}, {X: 1, Tx: -1, T: 4}, {X: 0, Tx: 1, T: 4},
		{X: 1, Tx: math.NaN(), T: 4}, {X: 1, Tx: 1, T: math.Inf(1)},
	} {
		var ie *InvalidError
		if _, err := FitBGNBD([]Customer{{X: 1, Tx: 1, T: 2}, c}); !errors.As(err, &ie) {
			t.Errorf("FitBGNBD with %+v: %v, want an InvalidError", c, err)
		}
	}
	var ie *InvalidError
	if _, err := FitBGNBD([]Customer{{T: 3}, {T: 5}}); !errors.As(err, &ie) {
		t.Errorf("FitBGNBD without repeaters: %v", err)
	}
	if _, err := FitBGNBD(nil); !errors.As(err, &ie) {
		t.Errorf("FitBGNBD(nil): %v", err)
	}
	if _, err := FitGammaGamma([]Spend{{X: 2, Mean: 10}}); !errors.As(err, &ie) {
		t.Errorf("FitGammaGamma with one client: %v", err)
	}
	if _, err := FitGammaGamma([]Spend{{X: 2, Mean: 10}, {X: 1, Mean: -3}, {X: 3, Mean: 4}}); !errors.As(err, &ie) {
		t.Errorf("FitGammaGamma with a negative mean: %v", err)
	}
	for _, h := range []Horizon{{Days: -1}, {Periods: -2}, {AnnualRate: -0.1}, {Days: math.NaN()}, {AnnualRate: math.Inf(1)}} {
		if err := h.Validate(); !errors.As(err, &ie) {
			t.Errorf("Horizon %+v: %v", h, err)
		}
	}
	if err := (Horizon{}).Validate(); err != nil {
		t.Errorf("default horizon: %v", err)
	}
}

func TestGammaGammaExpectedValue(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	pop, ok := m.PopulationMean()
	if !ok || math.Abs(pop-6.25*15.44/2.74) > 1e-12 {
		t.Fatalf("population mean %v %v", pop, ok)
	}
	for _, tc := range []struct {
		s    Spend
		want float64
	}{
		{Spend{}, pop},
		// FH 2013: weight (q−1)/(px+q−1) on the population mean, the rest on zbar.
		{Spend{X: 2, Mean: 22.35}, (2.74*pop + 12.5*22.35) / (12.5 + 2.74)},
		{Spend{X: 100, Mean: 50}, (2.74*pop + 625*50) / (625 + 2.74)},
	} {
		if got, _ := m.ExpectedValue(tc.s); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("E[Z|%+v] = %v, want %v", tc.s, got, tc.want)
		}
	}
	if _, ok := (GammaGamma{P: 1, Q: 0.9, Gamma: 1}).ExpectedValue(Spend{X: 1, Mean: 1}); ok {
		t.Error("E[Z] with q ≤ 1 reported as defined")
	}
}

func TestHorizon(t *testing.T) {
	c := Customer{X: 2, Tx: 30.43, T: 38.86}
	undiscounted := Horizon{NoDiscount: true}.DiscountedPurchases(cdnowParams, c)
	if want := cdnowParams.ExpectedPurchases(c, 365.0/7); math.Abs(undiscounted-want) > 1e-12 {
		t.Errorf("undiscounted sum %v, E[Y(365 days)] %v", undiscounted, want)
	}
	disc := Horizon{}.DiscountedPurchases(cdnowParams, c)
	// Every period's factor lies between 1/1.1 (the last) and 1/1.1^(1/12) (the first).
	if !(disc < undiscounted/math.Pow(1.1, 1.0/12) && disc > undiscounted/1.1) {
		t.Errorf("discounted %v outside (%v, %v)", disc, undiscounted/1.1, undiscounted/math.Pow(1.1, 1.0/12))
	}
	one := Horizon{Periods: 1, AnnualRate: 0.1}.DiscountedPurchases(cdnowParams, c)
	if math.Abs(one-undiscounted/1.1) > 1e-12 {
		t.Errorf("one yearly period: %v, want %v", one, undiscounted/1.1)
	}
}

func TestSummarize(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := decimal.RequireFromString
	asOf := d("2025-03-01T12:00:00Z")
	for _, tc := range []struct {
		name string
		ps   []Purchase
		ok   bool
		want Summary
	}{
		{"none", nil, false, Summary{}},
		{"only after as-of", []Purchase{{d("2025-03-02T00:00:00Z"), v("5")}}, false, Summary{}},
		{"one", []Purchase{{d("2025-02-01T10:00:00Z"), v("5")}}, true,
			Summary{First: d("2025-02-01T00:00:00Z"), T: 4, RepeatValue: decimal.Zero}},
		{"same day is one purchase", []Purchase{
			{d("2025-02-01T10:00:00Z"), v("5")}, {d("2025-02-08T23:59:59Z"), v("2.50")},
			{d("2025-02-08T00:00:00Z"), v("1.25")}, {d("2025-02-01T08:00:00+02:00"), v("9")}, // 06:00 UTC, 1 Feb
		}, true, Summary{First: d("2025-02-01T00:00:00Z"), X: 1, Tx: 1, T: 4, RepeatValue: v("3.75")}},
		{"zone: local day is not the UTC day", []Purchase{
			{d("2025-02-01T01:00:00+03:00"), v("1")}, // 31 Jan 22:00 UTC
			{d("2025-02-01T12:00:00Z"), v("2")},
		}, true, Summary{First: d("2025-01-31T00:00:00Z"), X: 1, Tx: 1.0 / 7, T: 29.0 / 7, RepeatValue: v("2")}},
		{"as-of day included", []Purchase{{d("2025-02-22T00:00:00Z"), v("1")}, {d("2025-03-01T23:00:00Z"), v("4")}}, true,
			Summary{First: d("2025-02-22T00:00:00Z"), X: 1, Tx: 1, T: 1, RepeatValue: v("4")}},
	} {
		got, ok := Summarize(tc.ps, asOf)
		if ok != tc.ok || !got.First.Equal(tc.want.First) || got.X != tc.want.X ||
			math.Abs(got.Tx-tc.want.Tx) > 1e-12 || math.Abs(got.T-tc.want.T) > 1e-12 || !got.RepeatValue.Equal(tc.want.RepeatValue) {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFitRefusesBoundary(t *testing.T) {
	// Clients who never stop buying at a common rate: no dropout in the data, a and b run off
	// to infinity; the fit must say so instead of returning a boundary estimate.
	var cs []Customer
	for i := range 200 {
		T := 30 + float64(i%10)
		cs = append(cs, Customer{X: 10 + i%3, Tx: T - 0.5, T: T})
	}
	var ie *InvalidError
	if f, err := FitBGNBD(cs); !errors.As(err, &ie) {
		t.Errorf("FitBGNBD on dropout-free data: %+v, %v; want an InvalidError", f.Params, err)
	}
}
