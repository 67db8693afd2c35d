package tabletest

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records a failure instead of ending the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatal(...any)          { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestErr(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		want           string
		failed, wanted bool
	}{
		{"no error wanted, none", nil, "", false, false},
		{"no error wanted, one", errors.New("boom"), "", true, false},
		{"error wanted, it", errors.New("boom: bad thing"), "bad thing", false, true},
		{"error wanted, another", errors.New("boom: bad thing"), "other", true, true},
		{"error wanted, none", nil, "bad thing", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			wanted := Err(r, tt.err, tt.want)
			if r.failed != tt.failed || wanted != tt.wanted {
				t.Errorf("Err(%v, %q): failed %v, wanted %v; want %v, %v", tt.err, tt.want, r.failed, wanted, tt.failed, tt.wanted)
			}
		})
	}
}
