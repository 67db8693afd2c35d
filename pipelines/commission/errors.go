package commission

import (
	"errors"
	"fmt"

	"github.com/taskole/revshare/schemas"
)

// The rules refuse poison input (R3, R8) with a *schemas.InvalidError labelled by the rule
// (schemas.LabelRefundExceeds, …). The state it was applied to is unchanged; the runner
// dead-letters the record with Error() and counts it by Label().

func invalid(label, format string, args ...any) *schemas.InvalidError {
	return schemas.Refused(label, fmt.Errorf("invalid input: "+format, args...))
}

// bounded turns a refusal by the bounds (a field error from schemas.Bounds) into a refusal
// labelled like the decoder's ("occurred_at:range"), naming the event.
func bounded(err error, event string) *schemas.InvalidError {
	label := schemas.LabelBounds
	var fe *schemas.InvalidError
	if errors.As(err, &fe) {
		label = fe.Label()
	}
	return schemas.Refused(label, fmt.Errorf("invalid input: %s: %w", event, err))
}
