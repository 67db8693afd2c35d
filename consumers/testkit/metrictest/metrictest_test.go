package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSum(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "c"}, []string{"topic"})
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "g", Help: "g"}, []string{"topic"})
	reg.MustRegister(c, g)
	c.WithLabelValues("a").Add(2)
	c.WithLabelValues("b").Add(3)
	g.WithLabelValues("a").Set(-1.5)
	for _, tc := range []struct {
		name   string
		metric string
		label  []string
		want   float64
	}{
		{"every sample of a counter", "c_total", nil, 5},
		{"one label value", "c_total", []string{"topic", "b"}, 3},
		{"a gauge", "g", []string{"topic", "a"}, -1.5},
		{"a value no sample has", "c_total", []string{"topic", "z"}, 0},
		{"another label", "c_total", []string{"other", "a"}, 0},
		{"a metric not registered", "nope", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sum(t, reg, tc.metric, tc.label...); got != tc.want {
				t.Errorf("Sum = %v, want %v", got, tc.want)
			}
		})
	}
}
