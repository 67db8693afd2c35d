package schemas

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// ErrInvalid matches every *InvalidError (errors.Is(err, ErrInvalid)): bad input, a record
// that can never be processed. Decoders, the rules and the sink all refuse with an
// *InvalidError; the stream processor dead-letters it (stream.Classify), the sink writes it
// to its dlq table.
var ErrInvalid = errors.New("invalid input")

// InvalidError is the one invalid-input error of the pipeline: which field of a record is
// wrong and why (a decoder or a column check), or which rule refused it (the rules, a
// runner's key check). Label gives its short, low-cardinality form for metrics labels and
// dead-letter reasons; every label is one of the constants below.
//
// A field error reads `field "amount": not a decimal string` and is labelled
// "<field>:<code>" ("amount:invalid"); a refusal (Refused) reads as its cause and is labelled
// with its rule ("refund_exceeds_remaining").
type InvalidError struct {
	// Field is the JSON name of the field ("amount"), or empty when the record as a whole
	// is not a JSON object or a rule refused it.
	Field  string
	Reason string

	code  string // field errors: one of the codes below; empty means CodeInvalid
	label string // refusals: the whole label
	err   error  // refusals: the cause, Error's text
}

// Codes of field errors: the second half of their label.
const (
	codeMissing   = "missing"   // a required field is absent
	codeType      = "type"      // the field has the wrong JSON type
	codeInvalid   = "invalid"   // the field has the right type but a bad value
	codeDuplicate = "duplicate" // the field occurs twice in the object
	codeMalformed = "malformed" // the record is not JSON
	codeNotObject = "not_object"
	codeRange     = "range" // the value is outside the bounds of SPEC R8 (Bounds) or its column
)

// Labels of refusals: the rules of pipelines/commission (R3, R8) and pipelines/statement
// (R7), and the runners' own checks of a record's envelope.
const (
	// The commission rules.
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
	// LabelBounds is a refusal by Bounds that carries no field label of its own.
	LabelBounds = "bounds"

	// The payout rules.
	LabelOwnerMismatch = "owner_mismatch"
	LabelPlaces        = "amount_places"
	LabelSign          = "amount_sign"

	// The runners' checks of a record's envelope.
	LabelKeyMismatch       = "key:mismatch"             // the record key is not the field it must carry
	LabelCloseCommand      = "close_command:invalid"    // a payouts control record that does not decode
	LabelSourceWatermark   = "source_watermark:invalid" // a commission's watermark header that does not parse
	LabelRepartitionOrigin = "repartition:origin"       // a forwarded record without a readable origin
	LabelDecode            = "decode"                   // a decoder error that is no field error
)

// Refused returns the refusal of a record by a rule or check: labelled label (one of the
// constants above), reading as err.
func Refused(label string, err error) *InvalidError {
	return &InvalidError{Reason: err.Error(), label: label, err: err}
}

// FieldInvalid returns the error of a field whose value breaks its column or contract
// (code "invalid" or "range"), labelled "<field>:<code>".
func FieldInvalid(field string, outOfRange bool, reason string) *InvalidError {
	code := codeInvalid
	if outOfRange {
		code = codeRange
	}
	return fieldErr(field, code, reason)
}

// AsInvalid returns err as an *InvalidError reading as err: err itself when it is one, a
// refusal with the label of the *InvalidError err wraps, or one labelled LabelDecode when
// the chain holds none; nil for nil.
func AsInvalid(err error) *InvalidError {
	if err == nil {
		return nil
	}
	var ie *InvalidError
	switch {
	case !errors.As(err, &ie):
		return Refused(LabelDecode, err)
	case ie.Error() == err.Error():
		return ie // err is ie, or reads as it
	}
	return Refused(ie.Label(), err)
}

// Error returns `field "<field>": <reason>`, the cause of a refusal, or just the reason.
func (e *InvalidError) Error() string {
	switch {
	case e.err != nil:
		return e.err.Error()
	case e.Field == "":
		return e.Reason
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Reason
}

// Unwrap returns the cause of a refusal.
func (e *InvalidError) Unwrap() error { return e.err }

// Is makes every *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Label returns a refusal's rule, or "<field>:<code>" with code one of missing, type,
// invalid, duplicate, range, or "json:malformed" / "json:not_object" for records that are
// not a JSON object. Field names come from the contract, so the label set is small and fixed.
func (e *InvalidError) Label() string {
	if e.err != nil {
		return e.label
	}
	code := e.code
	if code == "" {
		code = codeInvalid
	}
	if e.Field == "" {
		return "json:" + code
	}
	return e.Field + ":" + code
}

func fieldErr(field, code, reason string) *InvalidError {
	return &InvalidError{Field: field, Reason: reason, code: code}
}

// quoteValue quotes a (possibly hostile) value for an error reason, capped at 40 bytes.
func quoteValue(b []byte) string {
	const limit = 40
	if len(b) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return strconv.Quote(string(b[:cut])) + "…"
	}
	return strconv.Quote(string(b))
}
