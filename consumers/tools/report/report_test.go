package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func nd(s string) decimal.NullDecimal { return decimal.NullDecimal{Decimal: d(s), Valid: true} }

func month(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

// fixture is a fixed, hand-made report: 4 cohorts, 3 owners (one in JPY), a few rows per table.
func fixture() Data {
	data := Data{
		Title:       "Taskole <demo> report",
		GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Summary:     []Figure{{"Clients", "6,000"}, {"Commissions", "12,345.67 EUR"}},
		Owners: []Owner{
			{BusinessID: "b1-0001", Name: "Ilusalong Roos Tallinn", Sector: "beauty", Currency: "EUR", Clients: 120,
				Direct: d("15234.50"), Elsewhere: d("4200.10"), Commissions: d("294.01")},
			{BusinessID: "b1-0002", Name: "Jõusaal Tugev Tartu", Sector: "fitness", Currency: "EUR", Clients: 300,
				Direct: d("22000.00"), Elsewhere: d("9100.00"), Commissions: d("455.00")},
			{BusinessID: "b1-0003", Name: "Spa & <Sauna>", Sector: "spa", Currency: "EUR", Clients: 20,
				Direct: d("900.00"), Elsewhere: d("0"), Commissions: d("0")},
			{BusinessID: "b1-0017", Name: "Beauty Studio Helk Kyoto", Sector: "beauty", Currency: "JPY", Clients: 15,
				Direct: d("250000"), Elsewhere: d("40000"), Commissions: d("2800")},
		},
		Churn: []ChurnMonth{
			{Month: month(2025, 2), ActiveAtStart: 1000, Churned: 80, RepeatRate: 0.31, Currency: "EUR", AMPU: d("41.2345"), LTV: nd("515.43")},
			{Month: month(2025, 1), ActiveAtStart: 0, Churned: 0, Currency: "EUR", AMPU: d("0")},
		},
		NPS: []Satisfaction{
			{BusinessID: "b1-0001", Name: "Ilusalong Roos Tallinn", NPSResponses: 40, Promoters: 22, Detractors: 6, CSATResponses: 10, Satisfied: 8},
			{BusinessID: "b1-0003", Name: "Spa & <Sauna>", CSATResponses: 4, Satisfied: 1},
		},
		LTVCAC: []LTVCAC{
			{BusinessID: "b1-0001", Name: "Ilusalong Roos Tallinn", Currency: "EUR", NewClients: 30, Spend: d("600.00"), CAC: nd("20.00"), LTV: nd("515.43")},
			{BusinessID: "b1-0002", Name: "Jõusaal Tugev Tartu", Currency: "EUR", Spend: d("100.00")},
		},
		DLQ: []DeadLetters{
			{Consumer: "ledger", Topic: "taskole.bookings.v1", Reason: `field "amount": negative`, Count: 5},
			{Consumer: "sink", Topic: "taskole.bookings.v1", Reason: "malformed json", Count: 64},
		},
	}
	for m := range 6 {
		data.NetCLV = append(data.NetCLV, CLVMonth{Month: month(2025, time.Month(1+m)), Currency: "EUR",
			Gross: d("40").Add(d("12.5").Mul(decimal.NewFromInt(int64(m)))), Net: d("-35.125").Add(d("15").Mul(decimal.NewFromInt(int64(m)))),
			AcquisitionPerClient: d("60.0000"), RetentionPerClient: d("15.1250")})
		data.CRR = append(data.CRR, RetentionRate{Month: month(2025, time.Month(1+m)), Start: int64(100 * m), End: int64(100*m + 90), New: 50})
	}
	for c := range 4 {
		size := int64(100 + 10*c)
		for k := 0; k < 4-c; k++ {
			data.Retention = append(data.Retention, RetentionCell{Cohort: month(2025, time.Month(1+c)), Offset: k,
				Size: size, Active: size * int64(100-20*k) / 100})
			data.CLV = append(data.CLV, CLVPoint{Cohort: month(2025, time.Month(1+c)), Offset: k, Currency: "EUR",
				Direct: d("30.00").Mul(decimal.NewFromInt(int64(k + 1))), Indirect: d("7.50").Mul(decimal.NewFromInt(int64(k + 1))),
				Commissions: d("0.38").Mul(decimal.NewFromInt(int64(k + 1)))})
		}
	}
	return data
}

func render(t *testing.T, data Data) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTMLCharts(t *testing.T) {
	out := render(t, fixture())
	checks := []struct {
		what string
		re   string
		n    int
	}{
		{"heatmap cells (4+3+2+1)", `<rect class="cell"`, 10},
		{"clv lines, one per cohort", `<polyline class="clv-line"`, 4},
		{"direct bars, EUR owners only", `class="bar bar-direct"`, 3},
		{"indirect bars", `class="bar bar-indirect"`, 3},
		{"five charts", `<svg class="chart `, 5},
		{"gross and net CLV lines", `<polyline class="clv-(gross|net)"`, 2},
		{"CRR line", `<polyline class="crr-line"`, 1},
		{"CRR points, none for the month without clients at its start", `<circle class="crr-line-point"`, 5},
		{"no script", `<script`, 0},
		{"no external resource", `(src|href)="http`, 0},
		{"escaped title", `Taskole &lt;demo&gt; report`, 2},
		{"escaped owner name", `Spa &amp; &lt;Sauna&gt;`, 1},
	}
	for _, c := range checks {
		if got := len(regexp.MustCompile(c.re).FindAllStringIndex(out, -1)); got < c.n || (c.n == 0 && got != 0) {
			t.Errorf("%s: %d matches of %q, want %d", c.what, got, c.re, c.n)
		}
	}
	for _, want := range []string{
		"15,234.50", // money with separators at the minor unit
		"2,800",     // JPY has no minor unit
		"41.23",     // AMPU 41.2345 rounded half-even
		"25.77",     // LTV:CAC 515.43 / 20.00 = 25.7715 → 25.77
		"&#43;40",   // NPS (22−6)/40, "+" escaped by html/template
		"80%",       // CSAT 8/10
		"8.0%",      // churn 80/1000
		"Dead letters: 69",
		"2025-01 +0: 100 of 100 (100.0%)", // heatmap tooltip
		"-35.12",                          // net CLV -35.125 rounded half-even
		"15.12",                           // retention cost per client 15.1250
		"<td>140.0%</td>",                 // CRR (190 - 50) / 100
		"<td>2025-01</td><td>0</td><td>90</td><td>50</td><td>–</td>", // no CRR without S
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The best LTV:CAC comes first; the business without CAC last.
	at := strings.Index(out, `id="ltv-cac"`)
	if at < 0 {
		t.Fatal("report lacks the LTV : CAC table")
	}
	ltv := out[at:]
	if strings.Index(ltv, "25.77") > strings.Index(ltv, "Jõusaal") {
		t.Error("LTV : CAC rows not ordered best first")
	}
}

func TestHTMLEmptyData(t *testing.T) {
	out := render(t, Data{})
	for _, want := range []string{"No retention data.", "No CLV data in EUR.", "No owner income in EUR.", "Dead letters: 0", "No dead letters.",
		"No retention-rate data."} {
		if !strings.Contains(out, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Top owners by passive income (EUR)", "Jõusaal Tugev Tartu", "455.00",
		"Retention", "2025-04", "Realized CLV", "150.00", "Churn", "515.43", "25.77", "Dead letters: 69",
		"Gross and net CLV per client (platform, EUR", "-35.12", "Customer retention rate", "140.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "Jõusaal") > strings.Index(out, "Ilusalong") {
		t.Error("owners not ordered by commissions")
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 120 {
			t.Errorf("line of %d runes: %q", n, line)
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct{ in, cur, want string }{
		{"0", "EUR", "0.00"},
		{"1234567.891", "EUR", "1,234,567.89"},
		{"0.125", "EUR", "0.12"}, // half-even
		{"0.135", "EUR", "0.14"},
		{"-1000.5", "EUR", "-1,000.50"},
		{"123456.5", "JPY", "123,456"},
		{"1.0005", "BHD", "1.000"},
		{"999.9996", "BHD", "1,000.000"},
		{"12.345", "QQQ", "12.34"}, // unknown currency: two places
	}
	for _, tt := range tests {
		if got := money(d(tt.in), tt.cur); got != tt.want {
			t.Errorf("money(%s, %s) = %q, want %q", tt.in, tt.cur, got, tt.want)
		}
	}
}

func TestRatios(t *testing.T) {
	if r := (RetentionCell{Size: 0, Active: 0}).Rate(); r != 0 {
		t.Errorf("empty cohort rate %v", r)
	}
	if _, ok := (Satisfaction{}).NPS(); ok {
		t.Error("NPS without answers")
	}
	if v, ok := (Satisfaction{NPSResponses: 4, Promoters: 1, Detractors: 3}).NPS(); !ok || v != -50 {
		t.Errorf("NPS = %v, %v; want -50", v, ok)
	}
	if _, ok := (LTVCAC{CAC: nd("0"), LTV: nd("10")}).Ratio(); ok {
		t.Error("ratio with zero CAC")
	}
	if (ChurnMonth{}).ChurnRate() != 0 {
		t.Error("churn rate without active clients")
	}
}

// TestHTMLInChromium renders the fixture, opens it in headless Chromium, takes a screenshot
// and checks the charts survive in the browser's DOM.
func TestHTMLInChromium(t *testing.T) {
	bin := itest.Chromium()
	if bin == "" {
		if os.Getenv("TASKOLE_INTEGRATION") == "1" {
			t.Fatal("chromium not installed (apt-get install -y chromium)")
		}
		t.Skip("chromium not installed")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	data := fixture()
	data.Predicted = predictedFixture()
	if err := os.WriteFile(file, []byte(render(t, data)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	chrome := func(extra ...string) []byte {
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(dir, "profile")}, extra...)
		args = append(args, "file://"+file)
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", bin, extra, err)
		}
		return out
	}
	shot := filepath.Join(dir, "report.png")
	chrome("--screenshot="+shot, "--window-size=1280,2000")
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if len(png) < 20_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is %d bytes, want a real PNG image", len(png))
	}
	dom := string(chrome("--dump-dom"))
	for _, want := range []string{`class="chart retention-heatmap"`, `class="chart clv-chart"`, `class="chart owners-chart"`,
		`<rect class="cell"`, `<polyline class="clv-line"`, `class="bar bar-indirect"`,
		`class="chart net-clv-chart"`, `<polyline class="clv-gross"`, `<polyline class="clv-net"`,
		`class="chart crr-chart"`, `<polyline class="crr-line"`,
		`class="chart predicted-chart"`, `<td class="predicted-net">401.56</td>`} {
		if !strings.Contains(dom, want) {
			t.Errorf("browser DOM lacks %s", want)
		}
	}
	t.Logf("screenshot %s (%d bytes)", shot, len(png))
}

func TestReasonLabel(t *testing.T) {
	tests := []struct{ label, text, want string }{
		{"json:syntax", "anything", "json:syntax"},
		{"", `decoding booking: field "status": unknown status "no_show"`, "status:invalid"},
		{"", `decoding booking: field "booking_id": required`, "booking_id:missing"},
		{"", `decoding enrollment: malformed JSON: cannot parse JSON: unexpected end`, "json:malformed"},
		{"", `applying booking bk1-7 event bk1-7-completed: invalid input: booking bk1-7: completed after cancelled`, "completed after cancelled"},
		{"", `applying booking b event e: invalid input: booking b: refund 98.91 EUR beyond the 98.9 EUR left`, "refund N EUR beyond the N EUR left"},
		{"", "", "unknown"},
	}
	for _, tt := range tests {
		if got := reasonLabel(tt.label, tt.text); got != tt.want {
			t.Errorf("reasonLabel(%q, %q) = %q, want %q", tt.label, tt.text, got, tt.want)
		}
	}
}
