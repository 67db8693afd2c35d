package schemas

import "testing"

// TestEnum: codes count from First in the order of Values; an unknown value has none and is
// named in the refusal, quoted when it is a string.
func TestEnum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		code    func() (int8, bool)
		want    int8
		ok      bool
		unknown string
	}{
		{"absent source", func() (int8, bool) { return EnrollmentSources().Code("") }, 0, true, ""},
		{"qr", func() (int8, bool) { return EnrollmentSources().Code("qr") }, 3, true, ""},
		{"csat", func() (int8, bool) { return FeedbackKinds().Code(FeedbackCSAT) }, 2, true, ""},
		{"refunded", func() (int8, bool) { return Statuses().Code(StatusRefunded) }, 5, true, ""},
		{"ownership_correction", func() (int8, bool) { return Reasons().Code(ReasonOwnershipCorrection) }, 4, true, ""},
		{"stars", func() (int8, bool) { return FeedbackKinds().Code("stars") }, 0, false, `unknown kind "stars"`},
		{"status 9", func() (int8, bool) { return Statuses().Code(9) }, 0, false, "unknown status 9"},
	}
	for _, tt := range tests {
		code, ok := tt.code()
		if code != tt.want || ok != tt.ok {
			t.Errorf("%s: code %d, %v; want %d, %v", tt.name, code, ok, tt.want, tt.ok)
		}
	}
	if got := FeedbackKinds().Unknown("kind", "stars"); got != tests[5].unknown {
		t.Errorf("Unknown = %q, want %q", got, tests[5].unknown)
	}
	if got := Statuses().Unknown("status", 9); got != tests[6].unknown {
		t.Errorf("Unknown = %q, want %q", got, tests[6].unknown)
	}
}
