package sink

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestChecker: what each column type refuses, with the label the dead letter carries, and
// that a time column's refusal comes after the other columns' (the order of the checks
// before the row mappings moved to the topology).
func TestChecker(t *testing.T) {
	t.Parallel()
	old := time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)
	ok := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		walk  func(c *checker)
		label string // "" : nothing refused
	}{
		{"all fit", func(c *checker) {
			c.String("s", "x")
			c.Money("amount", decimal.RequireFromString("12345678901234.5678"))
			c.Rate("rate", decimal.RequireFromString("0.1234567890"))
			c.Enum8("kind", 1, "")
			c.Int8("purchases", -1)
			c.UInt8("score", 255)
			c.UInt32("count", 1<<32-1)
			c.TimeNs("occurred_at", ok)
			c.Stamp("failed_at", old)
		}, ""},
		{"money places", func(c *checker) { c.Money("amount", decimal.RequireFromString("0.00001")) }, "amount:range"},
		{"money trailing zeros", func(c *checker) { c.Money("amount", decimal.RequireFromString("1.000000")) }, ""},
		{"money digits", func(c *checker) { c.Money("amount", decimal.RequireFromString("100000000000000")) }, "amount:range"},
		{"rate places", func(c *checker) { c.Rate("rate", decimal.RequireFromString("0.12345678901")) }, "rate:range"},
		{"unknown enum", func(c *checker) { c.Enum8("kind", 0, `unknown kind "stars"`) }, "kind:invalid"},
		{"int8", func(c *checker) { c.Int8("purchases", 128) }, "purchases:range"},
		{"uint8", func(c *checker) { c.UInt8("score", -1) }, "score:range"},
		{"uint32", func(c *checker) { c.UInt32("count", 1<<32) }, "count:range"},
		{"before 1970", func(c *checker) { c.Time("period_start", old) }, "period_start:range"},
		{"time after the others", func(c *checker) {
			c.TimeNs("owned_since", old)
			c.Enum8("source", 0, `unknown source "x"`)
		}, "source:invalid"},
		{"first of two", func(c *checker) {
			c.Money("amount", decimal.RequireFromString("0.00001"))
			c.Money("refund_amount", decimal.RequireFromString("0.00001"))
		}, "amount:range"},
	}
	for _, tt := range tests {
		var c checker
		tt.walk(&c)
		got := ""
		if e := c.Refusal(); e != nil {
			got = e.Label()
		}
		if got != tt.label {
			t.Errorf("%s: refusal %q, want %q", tt.name, got, tt.label)
		}
		if e := c.Refusal(); e != nil {
			t.Errorf("%s: Refusal did not start a new row: %v", tt.name, e)
		}
	}
}
