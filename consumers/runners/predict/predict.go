// Package predict is the `taskole predict` job: it reads each client's purchase summary as of
// a date from ClickHouse's purchases view (sql/migrations/0100_facts.sql), fits the BG/NBD and
// Gamma-Gamma models of pipelines/clv per sector and platform wide, scores every client and
// writes client_predictions and clv_fits (sql/migrations/0110_predictions.sql).
//
// Units: a client's purchases in one currency are one account (money is never converted), so
// a row is a client × currency. BG/NBD is fitted per owner sector over those accounts, and a
// sector with fewer than MinRepeatClients accounts with a repeat purchase is scored with the
// platform fit instead (logged, and recorded in clv_fits with fallback = 1). Gamma-Gamma is
// fitted per sector × currency with the same fallback to the platform fit of the currency;
// with no usable fit at all the client's own mean purchase value is used (noted in clv_fits).
//
// Predicted CLV is clv.Horizon's discounted sum (365 days in 12 periods, discounted at each
// period's end at the annual rate, 10% by default) times the expected purchase value; it is
// split direct / indirect by the client's realized direct share of value in that currency, and
// the owner's expected commissions are the indirect part times the owner's referral rate in
// force at the as-of date (the ledger's default rate when it has none).
//
// Idempotent per date: the run drops the as-of partition of both tables and inserts it again.
// Nothing reads the wall clock: the as-of date is given or is the latest purchase day.
package predict

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/pipelines/clv"
	"github.com/taskole/revshare/schemas"
)

// Config of a run; the zero value of every field but AsOf means its default.
type Config struct {
	AsOf             time.Time       // the as-of day (UTC); zero: the latest purchase day
	Horizon          clv.Horizon     // CLV horizon and discount rate (365 days, 12 periods, 10%)
	MinRepeatClients int             // a sector fit needs this many repeat accounts (50)
	DefaultRate      decimal.Decimal // an owner's rate when it has none (0.05, as the ledger)
	Logger           *slog.Logger    // slog.Default() when nil
	Progress         io.Writer       // progress lines (stderr in the binary); nil: none
}

func (c Config) withDefaults() (Config, error) {
	if c.MinRepeatClients == 0 {
		c.MinRepeatClients = 50
	}
	if c.DefaultRate.IsZero() {
		c.DefaultRate = decimal.RequireFromString("0.05")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.MinRepeatClients < 1 {
		return c, fmt.Errorf("validating config: min repeat clients %d < 1", c.MinRepeatClients)
	}
	if c.DefaultRate.IsNegative() || c.DefaultRate.GreaterThan(decimal.NewFromInt(1)) {
		return c, fmt.Errorf("validating config: default rate %s outside [0, 1]", c.DefaultRate)
	}
	if err := c.Horizon.Validate(); err != nil {
		return c, fmt.Errorf("validating config: %w", err)
	}
	return c, nil
}

// Result says what a run wrote.
type Result struct {
	AsOf        time.Time
	Predictions int
	Fits        int
	Fallbacks   []string // scopes that fell back to the platform fit
}

// account is one client × currency as read from ClickHouse.
type account struct {
	client, currency, owner, sector string
	cohort                          time.Time
	sum                             clv.Summary
	total, direct                   decimal.Decimal
	rate                            decimal.Decimal
}

// Run reads, fits, scores and writes for one as-of day.
func Run(ctx context.Context, conn driver.Conn, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	asOf := cfg.AsOf
	if asOf.IsZero() {
		if asOf, err = latestPurchaseDay(ctx, conn); err != nil {
			return Result{}, err
		}
	}
	asOf = clv.Day(asOf)
	res := Result{AsOf: asOf}
	fmt.Fprintf(cfg.Progress, "predict: reading purchase summaries as of %s\n", asOf.Format(time.DateOnly))
	accts, err := readAccounts(ctx, conn, asOf, cfg.DefaultRate)
	if err != nil {
		return res, err
	}
	if len(accts) == 0 {
		return res, fmt.Errorf("predicting as of %s: no purchases up to that day", asOf.Format(time.DateOnly))
	}
	fmt.Fprintf(cfg.Progress, "predict: %d client accounts read\n", len(accts))

	ft := &fitter{cfg: cfg, accts: accts}
	bgOf, scopeOf, err := ft.bgnbd()
	if err != nil {
		return res, err
	}
	ggOf := ft.gammaGamma()
	fits := ft.fits
	res.Fallbacks = ft.fallbacks

	// Score.
	rows := make([]predictionRow, len(accts))
	for i, a := range accts {
		if i%100000 == 0 && i > 0 {
			fmt.Fprintf(cfg.Progress, "predict: scored %d/%d\n", i, len(accts))
		}
		r, err := score(a, bgOf[i], ggOf[i], cfg.Horizon)
		if err != nil {
			return res, fmt.Errorf("scoring client %.64q %s: %w", a.client, a.currency, err)
		}
		r.scope = scopeOf[i]
		rows[i] = r
	}
	fmt.Fprintf(cfg.Progress, "predict: scored %d/%d, writing\n", len(accts), len(accts))
	if err := write(ctx, conn, asOf, rows, fits); err != nil {
		return res, err
	}
	res.Predictions, res.Fits = len(rows), len(fits)
	cfg.Logger.Info("predictions written", "as_of", asOf.Format(time.DateOnly), "predictions", res.Predictions, "fits", res.Fits, "fallbacks", len(res.Fallbacks))
	return res, nil
}

// fitter fits the models of one run, recording a row per fit or fallback and the scopes
// that fell back to the platform BG/NBD fit.
type fitter struct {
	cfg       Config
	accts     []account
	fits      []fitRow
	fallbacks []string
}

// bgnbd fits BG/NBD per sector, with the platform fit as fallback, and returns each
// account's model and the scope it came from.
func (ft *fitter) bgnbd() ([]clv.BGNBD, []string, error) {
	bySector := map[string][]int{}
	all := make([]clv.Customer, len(ft.accts))
	for i, a := range ft.accts {
		all[i] = a.sum.Customer()
		bySector[a.sector] = append(bySector[a.sector], i)
	}
	platform, err := clv.FitBGNBD(all)
	if err != nil {
		return nil, nil, fmt.Errorf("fitting the platform BG/NBD: %w", err)
	}
	ft.fits = append(ft.fits, bgRow("platform", platform))
	fmt.Fprintf(ft.cfg.Progress, "predict: platform BG/NBD r=%.4g alpha=%.4g a=%.4g b=%.4g over %d accounts\n",
		platform.Params.R, platform.Params.Alpha, platform.Params.A, platform.Params.B, platform.Clients)
	bgOf := make([]clv.BGNBD, len(ft.accts))
	scopeOf := make([]string, len(ft.accts))
	for _, sector := range sortedKeys(bySector) {
		idx := bySector[sector]
		cs := make([]clv.Customer, len(idx))
		for k, i := range idx {
			cs[k] = all[i]
		}
		m, used := ft.sectorBGNBD(sector, cs, platform.Params)
		for _, i := range idx {
			bgOf[i], scopeOf[i] = m, used
		}
	}
	return bgOf, scopeOf, nil
}

// sectorBGNBD fits BG/NBD to the accounts cs of sector and returns the model and its scope,
// or the platform's model and "platform" when the sector is unknown, has too few repeat
// accounts or does not fit.
func (ft *fitter) sectorBGNBD(sector string, cs []clv.Customer, platform clv.BGNBD) (clv.BGNBD, string) {
	scope := "sector:" + sector
	repeat := 0
	for _, c := range cs {
		if c.X > 0 {
			repeat++
		}
	}
	switch {
	case sector == "":
		// Owners without a known sector are scored with the platform fit, silently: there
		// is no sector to fit.
	case repeat < ft.cfg.MinRepeatClients:
		note := fmt.Sprintf("%d repeat accounts < %d: platform fit used", repeat, ft.cfg.MinRepeatClients)
		ft.cfg.Logger.Warn("sector falls back to the platform BG/NBD fit", "sector", sector, "repeat_accounts", repeat, "min", ft.cfg.MinRepeatClients)
		ft.fits = append(ft.fits, fitRow{model: "bgnbd", scope: scope, clients: len(cs), repeat: repeat, fallback: true, note: note})
		ft.fallbacks = append(ft.fallbacks, scope)
	default:
		f, err := clv.FitBGNBD(cs)
		if err != nil {
			note := "fit failed, platform fit used: " + err.Error()
			ft.cfg.Logger.Warn("sector falls back to the platform BG/NBD fit", "sector", sector, "err", err)
			ft.fits = append(ft.fits, fitRow{model: "bgnbd", scope: scope, clients: len(cs), repeat: repeat, fallback: true, note: note})
			ft.fallbacks = append(ft.fallbacks, scope)
			break
		}
		ft.fits = append(ft.fits, bgRow(scope, f))
		fmt.Fprintf(ft.cfg.Progress, "predict: %s BG/NBD over %d accounts\n", scope, len(cs))
		return f.Params, scope
	}
	return platform, "platform"
}

// gammaGamma fits Gamma-Gamma per sector × currency, with the platform fit of the currency
// as fallback, and returns each account's model (nil: the client's own mean value).
func (ft *fitter) gammaGamma() []*clv.GammaGamma {
	byCur := map[string][]int{}
	bySC := map[sectorCurrency][]int{}
	for i, a := range ft.accts {
		byCur[a.currency] = append(byCur[a.currency], i)
		bySC[sectorCurrency{a.sector, a.currency}] = append(bySC[sectorCurrency{a.sector, a.currency}], i)
	}
	ggPlatform := ft.platformGammaGamma(byCur)
	ggOf := make([]*clv.GammaGamma, len(ft.accts))
	for _, k := range sortedSC(bySC) {
		key := sectorCurrency{k[0], k[1]}
		idx := bySC[key]
		m := ggPlatform[key.currency]
		if key.sector != "" {
			m = ft.sectorGammaGamma(key, idx, m)
		}
		for _, i := range idx {
			ggOf[i] = m
		}
	}
	return ggOf
}

// spends returns the spend summaries of the accounts idx and how many of them repeat with a
// positive mean value.
func (ft *fitter) spends(idx []int) ([]clv.Spend, int) {
	ss := make([]clv.Spend, len(idx))
	n := 0
	for k, i := range idx {
		ss[k] = ft.accts[i].sum.Spend()
		if ss[k].X > 0 && ss[k].Mean > 0 {
			n++
		}
	}
	return ss, n
}

// platformGammaGamma fits Gamma-Gamma per currency over the accounts byCur; a currency
// without a usable fit has none.
func (ft *fitter) platformGammaGamma(byCur map[string][]int) map[string]*clv.GammaGamma {
	ggPlatform := map[string]*clv.GammaGamma{}
	for _, cur := range sortedKeys(byCur) {
		ss, n := ft.spends(byCur[cur])
		f, err := clv.FitGammaGamma(ss)
		if err == nil && f.Params.Q <= 1 {
			err = errors.New("q ≤ 1: no finite expected value")
		}
		if err != nil {
			ft.cfg.Logger.Warn("no platform Gamma-Gamma fit: clients' own mean values used", "currency", cur, "err", err)
			ft.fits = append(ft.fits, fitRow{model: "gamma_gamma", scope: "platform", currency: cur, clients: len(ss), repeat: n, fallback: true,
				note: "no usable fit (" + err.Error() + "): each client's own mean purchase value used"})
			continue
		}
		p := f.Params
		ggPlatform[cur] = &p
		ft.fits = append(ft.fits, ggRow("platform", cur, f))
	}
	return ggPlatform
}

// sectorGammaGamma fits Gamma-Gamma to the accounts idx of one sector and currency, or
// returns platform when they are too few repeat accounts or do not fit.
func (ft *fitter) sectorGammaGamma(key sectorCurrency, idx []int, platform *clv.GammaGamma) *clv.GammaGamma {
	ss, n := ft.spends(idx)
	scope := "sector:" + key.sector
	var f clv.GammaGammaFit
	err := fmt.Errorf("%d repeat accounts < %d", n, ft.cfg.MinRepeatClients)
	if n >= ft.cfg.MinRepeatClients {
		f, err = clv.FitGammaGamma(ss)
		if err == nil && f.Params.Q <= 1 {
			err = errors.New("q ≤ 1: no finite expected value")
		}
	}
	if err != nil {
		ft.fits = append(ft.fits, fitRow{model: "gamma_gamma", scope: scope, currency: key.currency, clients: len(ss), repeat: n, fallback: true,
			note: err.Error() + ": platform fit used"})
		ft.cfg.Logger.Info("sector falls back to the platform Gamma-Gamma fit", "sector", key.sector, "currency", key.currency, "reason", err.Error())
		return platform
	}
	p := f.Params
	ft.fits = append(ft.fits, ggRow(scope, key.currency, f))
	return &p
}

type predictionRow struct {
	a                                      account
	scope                                  string
	pAlive, e30, e90, e365                 float64
	value, clvTotal, direct, indirect, com decimal.Decimal
}

type fitRow struct {
	model, scope, currency string
	clients, repeat        int
	p                      [4]float64
	ll                     float64
	fallback               bool
	note                   string
}

func bgRow(scope string, f clv.BGNBDFit) fitRow {
	return fitRow{model: "bgnbd", scope: scope, clients: f.Clients, repeat: f.Repeaters,
		p: [4]float64{f.Params.R, f.Params.Alpha, f.Params.A, f.Params.B}, ll: f.LogLikelihood}
}

func ggRow(scope, cur string, f clv.GammaGammaFit) fitRow {
	return fitRow{model: "gamma_gamma", scope: scope, currency: cur, clients: f.Clients, repeat: f.Clients,
		p: [4]float64{f.Params.P, f.Params.Q, f.Params.Gamma, 0}, ll: f.LogLikelihood}
}

// maxMoney bounds a Decimal(18, 4) column.
var maxMoney = decimal.New(1, 14)

// score computes one account's prediction; money is rounded half-even to the currency's minor
// unit and range-checked for Decimal(18, 4).
func score(a account, bg clv.BGNBD, gg *clv.GammaGamma, h clv.Horizon) (predictionRow, error) {
	exp, ok := schemas.MinorUnit(a.currency)
	if !ok {
		return predictionRow{}, fmt.Errorf("unknown currency %.8q", a.currency)
	}
	c := a.sum.Customer()
	r := predictionRow{a: a,
		pAlive: bg.PAlive(c),
		e30:    bg.ExpectedPurchases(c, 30.0/7),
		e90:    bg.ExpectedPurchases(c, 90.0/7),
		e365:   bg.ExpectedPurchases(c, 365.0/7),
	}
	var v float64
	if gg != nil {
		v, _ = gg.ExpectedValue(a.sum.Spend())
	} else {
		v = a.total.Div(decimal.NewFromInt(int64(a.sum.X + 1))).InexactFloat64()
	}
	clvF := h.DiscountedPurchases(bg, c) * v
	if !finiteF(v) || !finiteF(clvF) || !finiteF(r.e365) || !finiteF(r.pAlive) {
		return r, fmt.Errorf("non-finite prediction (value %v, clv %v) of %+v with %+v", v, clvF, c, bg)
	}
	r.value = decimal.NewFromFloat(v).RoundBank(exp)
	total := decimal.NewFromFloat(clvF)
	share := decimal.NewFromInt(1)
	if !a.total.IsZero() {
		share = a.direct.Div(a.total)
	}
	r.clvTotal = total.RoundBank(exp)
	r.direct = total.Mul(share).RoundBank(exp)
	r.indirect = r.clvTotal.Sub(r.direct)
	r.com = r.indirect.Mul(a.rate).RoundBank(exp)
	for _, m := range []decimal.Decimal{r.value, r.clvTotal, r.direct, r.indirect, r.com, a.total} {
		if m.Abs().GreaterThanOrEqual(maxMoney) {
			return r, fmt.Errorf("amount %s beyond Decimal(18, 4)", m)
		}
	}
	return r, nil
}

func finiteF(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

type sectorCurrency struct{ sector, currency string }

func sortedSC(m map[sectorCurrency][]int) [][2]string {
	ks := make([][2]string, 0, len(m))
	for k := range m {
		ks = append(ks, [2]string{k.sector, k.currency})
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i][0] != ks[j][0] {
			return ks[i][0] < ks[j][0]
		}
		return ks[i][1] < ks[j][1]
	})
	return ks
}
