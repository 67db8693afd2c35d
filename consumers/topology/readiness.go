package topology

import (
	"fmt"
	"maps"
	"slices"
)

// WaitsFor returns the topics whose partitions r must hold before it is ready: the topics it
// reads and the changelogs it keeps, each once (what it writes needs nothing).
func (r Runner) WaitsFor() []string {
	return Runner{Reads: r.Reads, Keeps: r.Keeps}.Touches()
}

// Readiness is a runner's /readyz: one check per topic the runner waits for (WaitsFor).
type Readiness struct {
	topics []string
	checks []func() bool
}

// Readiness returns r's readiness from checks, by topic name (under the prefix): how the
// runner knows it holds that topic's partitions (its group joined and the state of the
// assigned partitions restored, a table read in full caught up, …). It is an error when a
// topic r waits for has no check or a check names a topic r does not wait for: what a runner
// waits for is its declaration, nothing else.
func (r Runner) Readiness(checks map[string]func() bool) (Readiness, error) {
	var rd Readiness
	for _, t := range r.WaitsFor() {
		c, ok := checks[t]
		if !ok {
			return Readiness{}, fmt.Errorf("runner %s: no readiness check of topic %s", r.Name, t)
		}
		rd.topics = append(rd.topics, t)
		rd.checks = append(rd.checks, c)
	}
	for _, t := range slices.Sorted(maps.Keys(checks)) {
		if !slices.Contains(rd.topics, t) {
			return Readiness{}, fmt.Errorf("runner %s: a readiness check of topic %s, which it neither reads nor keeps", r.Name, t)
		}
	}
	return rd, nil
}

// Ready reports whether every topic's check says so.
func (rd Readiness) Ready() bool {
	for _, c := range rd.checks {
		if !c() {
			return false
		}
	}
	return true
}

// Waiting returns the topics whose checks say they are not ready yet, in WaitsFor's order.
func (rd Readiness) Waiting() []string {
	var out []string
	for i, c := range rd.checks {
		if !c() {
			out = append(out, rd.topics[i])
		}
	}
	return out
}
