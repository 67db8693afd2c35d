package ledger

import "fmt"

// InvalidError is poison input: an event the rules reject (R3, R8). The state it was applied
// to is unchanged; the runner dead-letters the record with Error() and counts it by Label().
type InvalidError struct {
	Reason string // human-readable, names the booking or event and the rule
	label  string
}

func (e *InvalidError) Error() string { return "invalid input: " + e.Reason }

// Label is a short, low-cardinality name of the rule that rejected the event, for metrics
// (e.g. "refund_exceeds_remaining", "invalid_transition").
func (e *InvalidError) Label() string { return e.label }

// Labels of InvalidError.
const (
	LabelMissingField       = "missing_field"
	LabelNonPositiveAmount  = "nonpositive_amount"
	LabelUnknownCurrency    = "unknown_currency"
	LabelUnknownStatus      = "unknown_status"
	LabelInvalidTransition  = "invalid_transition"
	LabelAfterCancelled     = "event_after_cancelled"
	LabelRefundNotCompleted = "refund_before_completed"
	LabelRefundExceeds      = "refund_exceeds_remaining"
	LabelCurrencyMismatch   = "currency_mismatch"
	LabelProviderMismatch   = "provider_mismatch"
	LabelBeyondHorizon      = "beyond_horizon"
)

func invalid(label, format string, args ...any) *InvalidError {
	return &InvalidError{Reason: fmt.Sprintf(format, args...), label: label}
}
