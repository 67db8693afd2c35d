package schemas

import (
	"strconv"
	"unicode/utf8"
)

// FieldError says which field of an event is wrong and why. Field is the JSON name of the
// field ("amount"), or empty when the record as a whole is not a JSON object.
//
// Error reads `field "amount": not a decimal string`; Label gives a short, low-cardinality
// form ("amount:invalid") for metrics labels and dead-letter counters.
type FieldError struct {
	Field  string
	Reason string

	code string // one of the codes below; empty means codeInvalid
}

// Error codes: the second half of Label.
const (
	codeMissing   = "missing"   // a required field is absent
	codeType      = "type"      // the field has the wrong JSON type
	codeInvalid   = "invalid"   // the field has the right type but a bad value
	codeDuplicate = "duplicate" // the field occurs twice in the object
	codeMalformed = "malformed" // the record is not JSON
	codeNotObject = "not_object"
	codeRange     = "range" // the value is outside the bounds of SPEC R8 (Bounds)
)

// Error returns `field "<field>": <reason>`, or just the reason when Field is empty.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Reason
}

// Label returns "<field>:<code>" with code one of missing, type, invalid, duplicate, or
// "json:malformed" / "json:not_object" for records that are not a JSON object. Field names
// come from the contract, so the label set is small and fixed.
func (e *FieldError) Label() string {
	code := e.code
	if code == "" {
		code = codeInvalid
	}
	if e.Field == "" {
		return "json:" + code
	}
	return e.Field + ":" + code
}

func fieldErr(field, code, reason string) *FieldError {
	return &FieldError{Field: field, Reason: reason, code: code}
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
