// Package schemas holds the event contract of the Taskole revenue-share pipeline (SPEC §4):
// one JSON Schema per topic beside this file, the Go type of every event, decoders that
// validate input events field by field and encoders for the events the pipeline produces.
//
// Decoders are the first step of every consumer and the hottest code in the system; they
// return a *InvalidError naming the offending field so that the dead-letter record says
// precisely what was wrong.
package schemas

import (
	"time"

	"github.com/shopspring/decimal"
)

// Status is a booking's lifecycle status.
type Status uint8

// Booking statuses, in lifecycle order. The zero value is not a valid status.
const (
	StatusUnknown Status = iota
	StatusCreated
	StatusConfirmed
	StatusCompleted
	StatusCancelled
	StatusRefunded
)

// Enrollment records that a business saved the client into its client program
// (taskole.enrollments.v1).
type Enrollment struct {
	EventID    string
	ClientID   string
	BusinessID string
	Source     string // optional: import, invite, qr
	OccurredAt time.Time
}

// Booking is one lifecycle event of a booking (taskole.bookings.v1).
type Booking struct {
	EventID      string
	BookingID    string
	ClientID     string
	BusinessID   string // the provider
	Status       Status
	Amount       decimal.Decimal // required on completed; zero when absent
	Currency     string          // ISO 4217 code; required on completed
	RefundAmount decimal.Decimal // required on refunded; zero when absent
	Category     string          // optional
	OccurredAt   time.Time
}

// Business is a business profile and referral-rate change (taskole.businesses.v1).
type Business struct {
	EventID      string
	BusinessID   string
	Name         string
	Sector       string
	ReferralRate decimal.Decimal // a fraction in [0, 1]
	OccurredAt   time.Time       // the rate applies to bookings at or after it
}

// FeedbackKind tells an NPS answer (0–10) from a CSAT answer (1–5).
type FeedbackKind string

// Feedback kinds.
const (
	FeedbackNPS  FeedbackKind = "nps"
	FeedbackCSAT FeedbackKind = "csat"
)

// Feedback is one NPS or CSAT answer (taskole.feedback.v1).
type Feedback struct {
	EventID    string
	ClientID   string
	BusinessID string
	Kind       FeedbackKind
	Score      int
	OccurredAt time.Time
}

// AcquisitionCost is marketing spend of a business (taskole.acquisition-costs.v1).
type AcquisitionCost struct {
	EventID    string
	BusinessID string
	Amount     decimal.Decimal
	Currency   string
	Channel    string // optional
	OccurredAt time.Time
}

// RetentionKind says what a business spent to keep its clients.
type RetentionKind string

// Retention cost kinds.
const (
	RetentionLoyaltyDiscount RetentionKind = "loyalty_discount"
	RetentionFreeService     RetentionKind = "free_service"
	RetentionGuarantee       RetentionKind = "guarantee"
	RetentionOther           RetentionKind = "other"
)

// RetentionCost is what a business spent to keep clients (taskole.retention-costs.v1): a
// loyalty discount, a free service, a guarantee. ClientID names the client it was spent on,
// or is empty when the spend is not attributed to one client.
type RetentionCost struct {
	EventID    string
	BusinessID string
	ClientID   string // optional
	Amount     decimal.Decimal
	Currency   string
	Kind       RetentionKind
	OccurredAt time.Time
}

// OwnerSource tells which kind of establishing event made a business the referral owner.
type OwnerSource string

// Owner sources.
const (
	OwnerByEnrollment OwnerSource = "enrollment"
	OwnerByBooking    OwnerSource = "booking"
)

// ReferralOwner is the current referral owner of a client (taskole.referral-owners.v1, compacted).
type ReferralOwner struct {
	ClientID        string
	OwnerBusinessID string
	OwnedSince      time.Time
	Source          OwnerSource
	EventID         string // the establishing event
}

// CommissionKind is accrual or reversal.
type CommissionKind string

// Commission kinds.
const (
	Accrual  CommissionKind = "accrual"
	Reversal CommissionKind = "reversal"
)

// Reason says why a ledger entry exists.
type Reason string

// Ledger entry reasons.
const (
	ReasonCompleted           Reason = "completed"
	ReasonRefund              Reason = "refund"
	ReasonCancellation        Reason = "cancellation"
	ReasonOwnershipCorrection Reason = "ownership_correction"
)

// Commission is one append-only ledger entry (taskole.commissions.v1, keyed by owner).
type Commission struct {
	CommissionID       string
	Kind               CommissionKind
	Reason             Reason
	OwnerBusinessID    string
	ProviderBusinessID string
	ClientID           string
	BookingID          string
	BookingAmount      decimal.Decimal
	Rate               decimal.Decimal
	Amount             decimal.Decimal // positive for accruals, negative for reversals
	Currency           string
	OccurredAt         time.Time
	PayableAt          time.Time
	SourceEventID      string
}

// PurchaseFact is one signed change of the ledger's judgement of a booking
// (taskole.purchase-facts.v1, keyed by client_id; ClickHouse table purchase_facts). Summed per
// booking, the facts are the booking's current judgement: Purchases 1 or 0, Amount its
// completed amount (or 0), Refunded its refunds, and per CommissionOwner the net of that
// owner's ledger entries. A fact is either a purchase delta (CommissionOwner empty,
// Commission zero) or a commission delta (Purchases, Amount and Refunded zero):
//
//   - the booking becomes a purchase: Purchases +1, Amount +amount;
//   - a purchase is refunded: Refunded +refund;
//   - a purchase is cancelled: Purchases −1, Amount −amount, Refunded −refunds so far;
//   - each commission entry: CommissionOwner its owner, Commission its signed amount.
//
// CompletedAt is the booking's completion time on every fact of it; OccurredAt and
// SourceEventID are the triggering event's. FactID is derived (pipelines/commission, FactID)
// from the trigger, the booking, the delta's kind and, for a commission delta, the
// commission_id: unique per delta and identical on replay.
type PurchaseFact struct {
	FactID             string
	ClientID           string
	BookingID          string
	ProviderBusinessID string
	Currency           string
	CompletedAt        time.Time
	Purchases          int8            // −1, 0 or +1
	Amount             decimal.Decimal // signed, the sign of Purchases
	Refunded           decimal.Decimal // signed
	CommissionOwner    string          // the commission entry's owner; "" on a purchase delta
	Commission         decimal.Decimal // signed
	SourceEventID      string
	OccurredAt         time.Time
}

// Payout is one statement per owner, currency and payout period (taskole.payouts.v1).
type Payout struct {
	PayoutID        string
	OwnerBusinessID string
	Currency        string
	PeriodStart     time.Time // inclusive
	PeriodEnd       time.Time // exclusive
	OpeningBalance  decimal.Decimal
	Accrued         decimal.Decimal
	Reversed        decimal.Decimal // negative or zero
	Net             decimal.Decimal
	Payable         decimal.Decimal
	CarriedForward  decimal.Decimal
	CommissionCount int
	CommissionIDs   []string // the ledger entries the statement covers (extension field)
	// LateCount is how many of those entries are late in event time: payable in an earlier
	// period that had already closed on their ledger input partition when they were
	// written (an ownership correction, a refund after the close); LateCommissionIDs names
	// them, sorted (extension fields).
	LateCount         int
	LateCommissionIDs []string
}

// DeadLetter is a record that could not be processed (taskole.dlq.v1, keyed as received).
type DeadLetter struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte // the original bytes; base64 on the wire
	Error     string
	Consumer  string
	FailedAt  time.Time
	// Reason is an optional low-cardinality label of the failure ("amount:invalid",
	// "refund_exceeds_remaining"), for metrics and grouping; Error holds the details. It is
	// omitted from the wire when empty.
	Reason string
	// ID is the dead letter's id, derived from (Consumer, Topic, Partition, Offset) by
	// DeadLetterID, so a repeat is recognisable (also the record's "dlq_id" header). Omitted
	// from the wire when empty.
	ID string
	// OriginalBytes and OriginalSHA256 are set when Value was cut to fit the dead-letter topic:
	// the original value's size and hex SHA-256 (the original stays in its topic). Zero and
	// empty otherwise, and then omitted from the wire.
	OriginalBytes  int64
	OriginalSHA256 string
}
