package clv

import (
	"bufio"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// cdnowRow is one line of the shipped CDNOW calibration summary.
type cdnowRow struct {
	id         int
	x          int
	tx, t, bar float64
}

func readCDNOWSummary(t *testing.T) []cdnowRow {
	t.Helper()
	f, err := os.Open("testdata/cdnow_customers_summary_with_transactions.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []cdnowRow
	for _, r := range recs[1:] {
		var row cdnowRow
		var errs [5]error
		row.id, errs[0] = strconv.Atoi(r[0])
		row.x, errs[1] = strconv.Atoi(r[1])
		row.tx, errs[2] = strconv.ParseFloat(r[2], 64)
		row.t, errs[3] = strconv.ParseFloat(r[3], 64)
		row.bar, errs[4] = strconv.ParseFloat(r[4], 64)
		for _, e := range errs {
			if e != nil {
				t.Fatalf("row %v: %v", r, e)
			}
		}
		rows = append(rows, row)
	}
	if len(rows) != 2357 {
		t.Fatalf("%d customers in the summary, want 2357", len(rows))
	}
	return rows
}

// sig3 reports whether got equals want to 3 significant digits: both round to the same
// 3-digit mantissa.
func sig3(got, want float64) bool {
	round := func(v float64) float64 {
		e := math.Floor(math.Log10(math.Abs(v))) - 2
		return math.Round(v/math.Pow(10, e)) * math.Pow(10, e)
	}
	return round(got) == round(want)
}

func TestCDNOWPublishedEstimates(t *testing.T) {
	rows := readCDNOWSummary(t)
	cs := make([]Customer, len(rows))
	var ss []Spend
	for i, r := range rows {
		cs[i] = Customer{X: r.x, Tx: r.tx, T: r.t}
		ss = append(ss, Spend{X: r.x, Mean: r.bar})
	}
	bg, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/NBD: %+v LL %.2f (%d iterations)", bg.Params, bg.LogLikelihood, bg.Iterations)
	checkPublished(t, "BG/NBD", []published{
		{"r", bg.Params.R, 0.243},
		{"alpha", bg.Params.Alpha, 4.414},
		{"a", bg.Params.A, 0.793},
		{"b", bg.Params.B, 2.426},
		{"log-likelihood", bg.LogLikelihood, -9582.4},
	})
	gg, err := FitGammaGamma(ss)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gamma-Gamma: %+v LL %.2f over %d (%d iterations)", gg.Params, gg.LogLikelihood, gg.Clients, gg.Iterations)
	if gg.Clients != 946 {
		t.Errorf("Gamma-Gamma over %d customers, published 946", gg.Clients)
	}
	checkPublished(t, "Gamma-Gamma", []published{
		{"p", gg.Params.P, 6.25},
		{"q", gg.Params.Q, 3.74},
		{"gamma", gg.Params.Gamma, 15.44},
	})
}

func TestCDNOWSpotValue(t *testing.T) {
	m := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	c := Customer{X: 2, Tx: 30.43, T: 38.86}
	if got := m.PAlive(c); !sig3(got, 0.727) {
		t.Errorf("P(alive) = %.6g, published 0.727", got)
	}
	if got := m.ExpectedPurchases(c, 39); !sig3(got, 1.226) {
		t.Errorf("E[Y(39)] = %.6g, published 1.226", got)
	}
	// The same with the parameters this package fits.
	rows := readCDNOWSummary(t)
	cs := make([]Customer, len(rows))
	for i, r := range rows {
		cs[i] = Customer{X: r.x, Tx: r.tx, T: r.t}
	}
	fit, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	if got := fit.Params.PAlive(c); !sig3(got, 0.727) {
		t.Errorf("fitted P(alive) = %.6g, published 0.727", got)
	}
	if got := fit.Params.ExpectedPurchases(c, 39); !sig3(got, 1.226) {
		t.Errorf("fitted E[Y(39)] = %.6g, published 1.226", got)
	}
}

// TestCDNOWRawToSummary turns the raw transactions into the calibration summary with
// Summarize and compares it with the shipped one, customer by customer (to its 2 decimals).
func TestCDNOWRawToSummary(t *testing.T) {
	f, err := os.Open("testdata/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byID := map[int][]Purchase{}
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("line %q: %d fields", sc.Text(), len(fs))
		}
		id, err1 := strconv.Atoi(fs[1]) // the summary is keyed by the second id
		at, err2 := time.Parse("20060102", fs[2])
		v, err3 := decimal.NewFromString(fs[4])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("line %q: %v %v %v", sc.Text(), err1, err2, err3)
		}
		byID[id] = append(byID[id], Purchase{At: at, Value: v})
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != 6919 {
		t.Fatalf("%d transactions, want 6919", lines)
	}
	calEnd := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	rows := readCDNOWSummary(t)
	if len(byID) != len(rows) {
		t.Fatalf("%d customers in the raw data, %d in the summary", len(byID), len(rows))
	}
	r2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	bad := 0
	for _, want := range rows {
		s, ok := Summarize(byID[want.id], calEnd)
		if !ok {
			t.Errorf("customer %d: no purchase by the calibration end", want.id)
			continue
		}
		// zbar is compared exactly: the decimal mean rounded half away from zero to the
		// shipped 2 decimals (a float mean of 35.175 would round down).
		bar := s.MeanRepeatValue().Round(2)
		if s.X != want.x || r2(s.Tx) != want.tx || r2(s.T) != want.t || !bar.Equal(decimal.NewFromFloat(want.bar)) {
			bad++
			if bad <= 10 {
				t.Errorf("customer %d: got x=%d t_x=%.2f T=%.2f zbar=%.2f, shipped x=%d t_x=%.2f T=%.2f zbar=%.2f",
					want.id, s.X, s.Tx, s.T, bar.InexactFloat64(), want.x, want.tx, want.t, want.bar)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d customers differ", bad, len(rows))
	}
}

// published is a fitted figure and the published value it must match to three significant
// digits.
type published struct {
	name      string
	got, want float64
}

// checkPublished checks every figure of model against its published value (sig3).
func checkPublished(t *testing.T, model string, figures []published) {
	t.Helper()
	for _, c := range figures {
		if !sig3(c.got, c.want) {
			t.Errorf("%s %s = %.6g, published %v", model, c.name, c.got, c.want)
		}
	}
}
