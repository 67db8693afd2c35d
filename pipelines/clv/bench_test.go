package clv

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkFitAndScore1M fits BG/NBD and Gamma-Gamma to one million synthetic clients and
// scores every one (P(alive), expected purchases at 30/90/365 days, the discounted 12-month
// sum, expected value): what `taskole predict` does per fit group, without the database.
//
//	go test -run '^$' -bench FitAndScore1M -benchtime 1x -benchmem ./pipelines/clv/
func BenchmarkFitAndScore1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	pop := synthetic(rng, BGNBD{R: 0.8, Alpha: 4, A: 0.6, B: 2.4}, 1_000_000, 26, 39)
	cs := make([]Customer, len(pop))
	ss := make([]Spend, len(pop))
	for i, times := range pop {
		x := len(times) - 1
		cs[i] = Customer{X: x, Tx: times[x] - times[0], T: 39 - times[0]}
		if x > 0 {
			ss[i] = Spend{X: x, Mean: 20 + 30*rng.Float64()}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		bg, err := FitBGNBD(cs)
		if err != nil {
			b.Fatal(err)
		}
		gg, err := FitGammaGamma(ss)
		if err != nil {
			b.Fatal(err)
		}
		var sum float64
		h := Horizon{}
		for i, c := range cs {
			v, _ := gg.Params.ExpectedValue(ss[i])
			sum += bg.Params.PAlive(c) + bg.Params.ExpectedPurchases(c, 30.0/7) +
				bg.Params.ExpectedPurchases(c, 90.0/7) + bg.Params.ExpectedPurchases(c, 365.0/7) +
				h.DiscountedPurchases(bg.Params, c)*v
		}
		if sum <= 0 {
			b.Fatal("nothing scored")
		}
	}
}
