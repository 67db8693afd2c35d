// Package tabletest holds the checks that table-driven unit tests of several packages
// repeat, written once.
package tabletest

import (
	"strings"
	"testing"
)

// Err checks a case's error against want, the substring the error must contain ("" for no
// error): a case wanting an error fails when there is none or another one, a case wanting
// none fails on any. It reports whether an error was wanted, so the case ends there.
func Err(t testing.TB, err error, want string) (wanted bool) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatal(err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("err = %v, want %q", err, want)
	}
	return want != ""
}
