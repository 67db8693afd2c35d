// Package metrictest reads metrics back from a Prometheus registry in tests, written once for
// the packages whose tests check their counters and gauges.
package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Sum returns the sum of the values (counter plus gauge) of the samples of the metric name in
// g; with a label and its value (Sum(t, g, name, "topic", "x")), of the samples carrying that
// label with that value only. A metric g does not hold sums to 0.
func Sum(t testing.TB, g prometheus.Gatherer, name string, label ...string) float64 {
	t.Helper()
	if len(label) != 0 && len(label) != 2 {
		t.Fatalf("metrictest.Sum: label is a name and a value, got %q", label)
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(label) == 0 || hasLabel(m.GetLabel(), label[0], label[1]) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// hasLabel reports whether the label pairs include name=value.
func hasLabel(pairs []*dto.LabelPair, name, value string) bool {
	for _, l := range pairs {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
