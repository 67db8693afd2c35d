// Package clv holds the buy-till-you-die models behind predicted CLV (SPEC §3 "Predicted
// CLV"): the BG/NBD model of Fader, Hardie & Lee (2005) for how many purchases a client will
// still make and whether they are still "alive", and the Gamma-Gamma model of Fader & Hardie
// (2013) for what a purchase is worth. It is pure: no I/O, no clock. The runner
// (consumers/runners/predict) reads each client's summary from ClickHouse, fits here, scores here and
// writes the results back.
//
// # Summary of a client
//
// A client (per currency: each currency is its own account) is summarised as of a date by
//
//	x    repeat purchases: the number of distinct UTC days with a purchase, minus one
//	t_x  recency: weeks from the first purchase day to the last one
//	T    age: weeks from the first purchase day to the as-of day
//	zbar the mean value of the repeat purchases (each day's purchases summed into one)
//
// Purchases on one day count as one, as in the papers' CDNOW summary. Weeks are days / 7.
// Summarize builds it from dated purchases, SummaryOf from first/last day counts.
//
// # BG/NBD
//
// Purchases while alive are Poisson with rate λ ~ Gamma(r, α); after each purchase the client
// dies with probability p ~ Beta(a, b). The log-likelihood of one client is
//
//	ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
//	       + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]
//
// evaluated with math.Lgamma and a log-sum-exp, so neither large x nor large T overflows.
// FitBGNBD maximises the sum over clients in log-parameter space (positivity for free) with
// gonum's BFGS and the analytic gradient (digamma from gonum's mathext).
//
// P(alive | x, t_x, T) = 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
//
// The expected number of purchases in (T, T+τ] is
//
//	E[Y(τ)] = P(alive) · (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+τ))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)]
//
// with z = τ/(α+T+τ). The hypergeometric term is computed after Euler's transformation,
// (1−z)^(r+x) · 2F1(r+x, b+x; c; z) = (1−z)^(a−1) · 2F1(a+b−1−r, a−1; c; z), whose first two
// parameters do not grow with x (the series converges faster, not slower, for heavy buyers),
// and with the factor a−1 cancelled analytically, so a = 1 is not a singularity
// (ExpectedPurchases; the derivation is in hyp2f1.go).
//
// # Gamma-Gamma
//
// Given x repeat purchases, a client's mean purchase value zbar is Gamma(p·x, ν·x) with
// ν ~ Gamma(q, γ); FitGammaGamma maximises its marginal likelihood over clients with x > 0 and
// zbar > 0. The expected value of a client's purchase is
//
//	E[Z | x, zbar] = (q−1)/(p·x+q−1) · p·γ/(q−1) + p·x/(p·x+q−1) · zbar
//
// (the population mean p·γ/(q−1) for x = 0; it needs q > 1).
//
// # Predicted CLV
//
// PredictedValue sums, over monthly periods k = 1..n of the horizon (a period is horizon/n
// days), the expected purchases in the period times the expected purchase value times the
// discount factor (1+d)^(−k·(period/365 days)) for the annual rate d: discrete discounting at
// each period's end. Money here is float64 on purpose: these are estimates, converted to a
// decimal of the currency's minor unit (half-even) once, by the runner, before they are stored.
package clv
