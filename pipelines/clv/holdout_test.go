package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// synthetic draws a BG/NBD population: n clients whose first purchase is uniform in the first
// `enter` weeks; each purchases at Poisson rate λ ~ Gamma(r, α) while alive and dies after
// each repeat purchase with probability p ~ Beta(a, b). It returns every client's purchase
// times (weeks, first purchase included) up to `end`.
func synthetic(rng *rand.Rand, m BGNBD, n int, enter, end float64) [][]float64 {
	lam := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: rng}
	drop := distuv.Beta{Alpha: m.A, Beta: m.B, Src: rng}
	out := make([][]float64, n)
	for i := range out {
		t := rng.Float64() * enter
		l, p := lam.Rand(), drop.Rand()
		times := []float64{t}
		for {
			t += rng.ExpFloat64() / l
			if t > end {
				break
			}
			times = append(times, t)
			if rng.Float64() < p {
				break
			}
		}
		out[i] = times
	}
	return out
}

// TestCalibrationHoldout fits on months 1–9 (39 weeks) of a synthetic population whose clients
// arrive in months 1–6 and predicts months 10–12 (13 weeks): per group of calibration repeat
// purchases, the predicted holdout purchases must be within 15% of those that happened.
func TestCalibrationHoldout(t *testing.T) {
	truth := BGNBD{R: 0.8, Alpha: 4, A: 0.6, B: 2.4}
	const calEnd, end = 39.0, 52.0
	rng := rand.New(rand.NewPCG(17, 2025))
	pop := synthetic(rng, truth, 20000, 26, end)
	cs := make([]Customer, len(pop))
	actual := make([]int, len(pop))
	for i, times := range pop {
		first, last, x := times[0], times[0], 0
		for _, s := range times[1:] {
			if s <= calEnd {
				x, last = x+1, s
			} else {
				actual[i]++
			}
		}
		cs[i] = Customer{X: x, Tx: last - first, T: calEnd - first}
	}
	fit, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("true %+v\nfit  %+v (LL %.1f, %d clients)", truth, fit.Params, fit.LogLikelihood, fit.Clients)
	const groups = 8 // 0..6 and 7+
	var n [groups]int
	var pred, act [groups]float64
	for i, c := range cs {
		g := min(c.X, groups-1)
		n[g]++
		pred[g] += fit.Params.ExpectedPurchases(c, end-calEnd)
		act[g] += float64(actual[i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%8s %8s %12s %12s %8s\n", "x (cal)", "clients", "actual", "predicted", "error")
	var tp, ta float64
	for g := range groups {
		label := fmt.Sprint(g)
		if g == groups-1 {
			label += "+"
		}
		e := pred[g]/act[g] - 1
		fmt.Fprintf(&b, "%8s %8d %12.0f %12.1f %7.1f%%\n", label, n[g], act[g], pred[g], 100*e)
		if act[g] == 0 || math.Abs(e) > 0.15 {
			t.Errorf("group x=%s: predicted %.1f, actual %.0f", label, pred[g], act[g])
		}
		tp, ta = tp+pred[g], ta+act[g]
	}
	fmt.Fprintf(&b, "%8s %8d %12.0f %12.1f %7.1f%%\n", "all", len(cs), ta, tp, 100*(tp/ta-1))
	t.Log("holdout purchases in weeks 39–52 per calibration repeat-purchase group\n" + b.String())
}
