//go:build !unix

package schemas

import "testing"

// reportCPU is a no-op where getrusage is missing.
func reportCPU(*testing.B) func() { return func() {} }
