package commission

import (
	"errors"
	"fmt"

	"github.com/taskole/revshare/schemas"
)

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

// bounded turns a refusal by the bounds (a *schemas.FieldError from schemas.Bounds) into an
// InvalidError labelled like the decoder's ("occurred_at:range"), naming the event.
func bounded(err error, event string) *InvalidError {
	label := "bounds"
	var fe *schemas.FieldError
	if errors.As(err, &fe) {
		label = fe.Label()
	}
	return &InvalidError{Reason: event + ": " + err.Error(), label: label}
}
