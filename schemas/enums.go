package schemas

import (
	"fmt"
	"reflect"
)

// Enum is one of the contract's enumerations with the code of every value in the raw tables'
// Enum8 columns (sql/migrations/0001_raw.sql, 0002_retention_costs.sql): Values[i] is coded
// First+i. These functions are the one place the values and their codes are decided on the
// Go side: the decoders accept these values (wireNames), the sink's row mappings
// (consumers/topology) write these codes, and a test of the sink holds them equal to the
// migrations.
type Enum[E comparable] struct {
	First  int8 // the code of Values[0]
	Values []E
}

// Code returns v's code, and false when v is not a value of e.
func (e Enum[E]) Code(v E) (int8, bool) {
	for i, x := range e.Values {
		if x == v {
			return e.First + int8(i), true
		}
	}
	return 0, false
}

// Unknown returns the refusal text of a value of field that is not one of e's: "unknown
// <field> <value>", the value quoted when it is a string.
func (e Enum[E]) Unknown(field string, v E) string {
	switch rv := reflect.ValueOf(v); {
	case rv.Kind() == reflect.String:
		return fmt.Sprintf("unknown %s %q", field, rv.String())
	case rv.CanUint():
		return fmt.Sprintf("unknown %s %d", field, rv.Uint())
	case rv.CanInt():
		return fmt.Sprintf("unknown %s %d", field, rv.Int())
	}
	return fmt.Sprintf("unknown %s %v", field, v)
}

// wireNames returns the names of e's values as the decoders accept them on the wire: every
// value but "" (an absent optional field, never written as "").
func wireNames[E ~string](e Enum[E]) []string {
	var out []string
	for _, v := range e.Values {
		if v != "" {
			out = append(out, string(v))
		}
	}
	return out
}

// The values the decoders accept for the contract's enums (reader.enum): Enum's, decided once.
var (
	enrollmentSourceNames = wireNames(EnrollmentSources())
	feedbackKindNames     = wireNames(FeedbackKinds())
	retentionKindNames    = wireNames(RetentionKinds())
	ownerSourceNames      = wireNames(OwnerSources())
	commissionKindNames   = wireNames(CommissionKinds())
	reasonNames           = wireNames(Reasons())
)

// Statuses are a booking's statuses (bookings.status), coded by their Status value.
func Statuses() Enum[Status] {
	return Enum[Status]{First: int8(StatusCreated),
		Values: []Status{StatusCreated, StatusConfirmed, StatusCompleted, StatusCancelled, StatusRefunded}}
}

// EnrollmentSources are an enrollment's sources (enrollments.source); an absent source is ""
// and coded 0.
func EnrollmentSources() Enum[string] {
	return Enum[string]{First: 0, Values: []string{"", "import", "invite", "qr"}}
}

// FeedbackKinds are the kinds of a feedback answer (feedback.kind).
func FeedbackKinds() Enum[FeedbackKind] {
	return Enum[FeedbackKind]{First: 1, Values: []FeedbackKind{FeedbackNPS, FeedbackCSAT}}
}

// OwnerSources are the establishing events of a referral owner (referral_owners.source).
func OwnerSources() Enum[OwnerSource] {
	return Enum[OwnerSource]{First: 1, Values: []OwnerSource{OwnerByEnrollment, OwnerByBooking}}
}

// CommissionKinds are the kinds of a ledger entry (commissions.kind).
func CommissionKinds() Enum[CommissionKind] {
	return Enum[CommissionKind]{First: 1, Values: []CommissionKind{Accrual, Reversal}}
}

// Reasons are the reasons of a ledger entry (commissions.reason).
func Reasons() Enum[Reason] {
	return Enum[Reason]{First: 1,
		Values: []Reason{ReasonCompleted, ReasonRefund, ReasonCancellation, ReasonOwnershipCorrection}}
}

// RetentionKinds are the kinds of a retention cost (retention_costs.kind).
func RetentionKinds() Enum[RetentionKind] {
	return Enum[RetentionKind]{First: 1,
		Values: []RetentionKind{RetentionLoyaltyDiscount, RetentionFreeService, RetentionGuarantee, RetentionOther}}
}
