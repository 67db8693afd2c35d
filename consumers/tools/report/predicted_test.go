package report

import (
	"strings"
	"testing"
	"time"
)

func TestPredictedPanel(t *testing.T) {
	data := fixture()
	if html := render(t, data); strings.Contains(html, `id="predicted-clv"`) {
		t.Error("predicted panel shown without predictions")
	}
	data.Predicted = predictedFixture()
	html := render(t, data)
	for _, want := range []string{`id="predicted-clv"`, `As of 2025-12-31`, `class="chart predicted-chart"`, `class="chart palive-chart"`,
		`class="bar bar-predicted"`, `P(alive) 0.9–1.0: 3126`, `2025-01 predicted 476.09 EUR per client`, `80,655`,
		`<td class="predicted-net">401.56</td>`, `<td class="predicted-net">–</td>`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The chart draws the chart currency only: two cohorts, two bars each.
	if n := strings.Count(html, `class="bar bar-realized"`); n != 2 {
		t.Errorf("%d realized bars, want 2 (EUR cohorts)", n)
	}
}

// predictedFixture is a predicted-CLV panel with a net figure for one cohort of two.
func predictedFixture() *Predicted {
	return &Predicted{
		AsOf: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		Cohorts: []PredictedCohort{
			{Cohort: month(2025, 1), Currency: "EUR", Clients: 700, MeanPAlive: 0.69, RealizedPerCl: d("669.4178"), PredictedPerCl: d("476.0932"), ExpectedCommiss: d("8305.10"),
				Net: 401.5561, HasNet: true},
			{Cohort: month(2025, 2), Currency: "EUR", Clients: 240, MeanPAlive: 0.68, RealizedPerCl: d("579.97"), PredictedPerCl: d("436.96"), ExpectedCommiss: d("1756.50")},
			{Cohort: month(2025, 1), Currency: "JPY", Clients: 40, MeanPAlive: 0.74, RealizedPerCl: d("80655"), PredictedPerCl: d("56594"), ExpectedCommiss: d("811")},
		},
		PAlive: [10]int64{405, 125, 90, 77, 94, 132, 159, 245, 643, 3126},
	}
}
