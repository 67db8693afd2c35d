package clv

import "fmt"

// InvalidError is input the models cannot take: a summary outside its domain (negative counts,
// recency beyond age, non-finite values) or too few clients to fit. Nothing was fitted or
// scored; the runner reports Error() and stops or falls back (consumers/runners/predict).
type InvalidError struct {
	Reason string
}

func (e *InvalidError) Error() string { return "invalid input: " + e.Reason }

func invalid(format string, args ...any) *InvalidError {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}
