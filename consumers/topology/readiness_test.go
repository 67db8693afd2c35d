package topology

import (
	"slices"
	"strings"
	"testing"
)

// TestReadiness: a runner's readiness waits for exactly the topics it reads and keeps, one
// check each; a missing or an extra check is an error.
func TestReadiness(t *testing.T) {
	t.Parallel()
	tp := New("x.")
	payouts := tp.Runner("payouts")
	if got, want := payouts.WaitsFor(), []string{"x.taskole.commissions.v1", "x.taskole.payouts-control.v1", "x.taskole.payouts-state.v1"}; !slices.Equal(got, want) {
		t.Fatalf("payouts waits for %v, want %v", got, want)
	}
	yes, no := func() bool { return true }, func() bool { return false }
	tests := []struct {
		name    string
		checks  map[string]func() bool
		err     string
		ready   bool
		waiting []string
	}{
		{"all ready", map[string]func() bool{"x.taskole.commissions.v1": yes, "x.taskole.payouts-control.v1": yes, "x.taskole.payouts-state.v1": yes}, "", true, nil},
		{"state restoring", map[string]func() bool{"x.taskole.commissions.v1": yes, "x.taskole.payouts-control.v1": yes, "x.taskole.payouts-state.v1": no}, "", false, []string{"x.taskole.payouts-state.v1"}},
		{"no check of the changelog", map[string]func() bool{"x.taskole.commissions.v1": yes, "x.taskole.payouts-control.v1": yes}, "no readiness check of topic x.taskole.payouts-state.v1", false, nil},
		{"a written topic", map[string]func() bool{"x.taskole.commissions.v1": yes, "x.taskole.payouts-control.v1": yes, "x.taskole.payouts-state.v1": yes, "x.taskole.payouts.v1": yes}, "x.taskole.payouts.v1, which it neither reads nor keeps", false, nil},
	}
	for _, tt := range tests {
		rd, err := payouts.Readiness(tt.checks)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if rd.Ready() != tt.ready || !slices.Equal(rd.Waiting(), tt.waiting) {
			t.Errorf("%s: ready %v waiting %v, want %v %v", tt.name, rd.Ready(), rd.Waiting(), tt.ready, tt.waiting)
		}
	}
}
