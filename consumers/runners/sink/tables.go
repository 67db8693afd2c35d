package sink

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// tp names one partition of one topic.
type tp struct {
	topic     string
	partition int32
}

// table is the insert buffer of one raw table: its columns in insert order, the number of
// buffered rows and, per partition, the highest offset buffered (used to check whether an
// insert whose acknowledgement was lost did land).
type table struct {
	name  string
	cols  []namedCol
	rows  int
	last  map[tp]int64
	query string // INSERT INTO db.name (c1, c2, …)

	attempted bool // an insert of the current buffer was sent and failed
}

func (t *table) init(db, name string, cols []namedCol) {
	t.name = name
	t.cols = cols
	t.last = map[tp]int64{}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	t.query = "INSERT INTO " + db + "." + name + " (" + strings.Join(names, ", ") + ")"
}

// added counts one buffered row. The partition's last offset is noted once per fetched
// partition (noteLast), not per row.
func (t *table) added(*kgo.Record) { t.rows++ }

// noteLast records that the buffer holds records of k up to offset off.
func (t *table) noteLast(k tp, off int64) {
	if o, ok := t.last[k]; !ok || off > o {
		t.last[k] = off
	}
}

func (t *table) reset() {
	for _, c := range t.cols {
		c.col.reset()
	}
	t.rows = 0
	t.attempted = false
	clear(t.last)
}

// secs splits a time into the DateTime column value and the sub-second nanoseconds.
func secs(t time.Time) (time.Time, uint32) { return t, uint32(t.Nanosecond()) }

// rowError is a record the sink cannot store: the decoder refused it or a value does not fit
// its column. It becomes a dlq row.
type rowError struct {
	label string // "<field>:<code>"
	err   error
}

func (e *rowError) Error() string { return e.err.Error() }

// Label is the low-cardinality reason of the refusal ("<field>:<code>"), for the dead letter.
func (e *rowError) Label() string { return e.label }

func fieldErr(field, code, format string, args ...any) *rowError {
	return &rowError{label: field + ":" + code, err: fmt.Errorf("field %q: "+format, append([]any{field}, args...)...)}
}

// decodeErr wraps a decoder error with its label.
func decodeErr(err error) *rowError {
	var fe *schemas.FieldError
	if errors.As(err, &fe) {
		return &rowError{label: fe.Label(), err: err}
	}
	return &rowError{label: "decode", err: err}
}

func checkMoney(field string, v decimal.Decimal, spec decimalSpec) *rowError {
	if why := spec.check(v); why != "" {
		return fieldErr(field, "range", "%s", why)
	}
	return nil
}

func checkTimeField(field string, t time.Time) *rowError {
	if why := checkTime(t); why != "" {
		return fieldErr(field, "range", "%s", why)
	}
	return nil
}

// ---- bookings ----

type bookings struct {
	table
	eventID, bookingID, clientID, businessID strCol
	status                                   i8Col
	amount                                   decCol
	currency                                 strCol
	refundAmount                             decCol
	category                                 strCol
	occurredAt                               timeCol
	occurredNs                               u32Col
	meta
}

func newBookings(db string) *bookings {
	t := &bookings{}
	t.init(db, "bookings", append([]namedCol{
		{"event_id", &t.eventID}, {"booking_id", &t.bookingID}, {"client_id", &t.clientID},
		{"business_id", &t.businessID}, {"status", &t.status}, {"amount", &t.amount},
		{"currency", &t.currency}, {"refund_amount", &t.refundAmount}, {"category", &t.category},
		{"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
}

func checkBooking(v *schemas.Booking) *rowError {
	if v.Status < schemas.StatusCreated || v.Status > schemas.StatusRefunded {
		return fieldErr("status", "invalid", "unknown status %d", v.Status)
	}
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	if e := checkMoney("refund_amount", v.RefundAmount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *bookings) add(v *schemas.Booking, r *kgo.Record) {
	t.eventID = append(t.eventID, v.EventID)
	t.bookingID = append(t.bookingID, v.BookingID)
	t.clientID = append(t.clientID, v.ClientID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.status = append(t.status, int8(v.Status))
	t.amount = append(t.amount, v.Amount)
	t.currency = append(t.currency, v.Currency)
	t.refundAmount = append(t.refundAmount, v.RefundAmount)
	t.category = append(t.category, v.Category)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}

// ---- enrollments ----

type enrollments struct {
	table
	eventID, clientID, businessID strCol
	source                        i8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
	meta
}

func newEnrollments(db string) *enrollments {
	t := &enrollments{}
	t.init(db, "enrollments", append([]namedCol{
		{"event_id", &t.eventID}, {"client_id", &t.clientID}, {"business_id", &t.businessID},
		{"source", &t.source}, {"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
}

func enrollmentSource(s string) (int8, bool) {
	switch s {
	case "":
		return 0, true
	case "import":
		return 1, true
	case "invite":
		return 2, true
	case "qr":
		return 3, true
	}
	return 0, false
}

func checkEnrollment(v *schemas.Enrollment) *rowError {
	if _, ok := enrollmentSource(v.Source); !ok {
		return fieldErr("source", "invalid", "unknown source %q", v.Source)
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *enrollments) add(v *schemas.Enrollment, r *kgo.Record) {
	src, _ := enrollmentSource(v.Source)
	t.eventID = append(t.eventID, v.EventID)
	t.clientID = append(t.clientID, v.ClientID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.source = append(t.source, src)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}

// ---- businesses ----

type businesses struct {
	table
	eventID, businessID, name, sector strCol
	referralRate                      decCol
	occurredAt                        timeCol
	occurredNs                        u32Col
	meta
}

func newBusinesses(db string) *businesses {
	t := &businesses{}
	t.init(db, "businesses", append([]namedCol{
		{"event_id", &t.eventID}, {"business_id", &t.businessID}, {"name", &t.name},
		{"sector", &t.sector}, {"referral_rate", &t.referralRate},
		{"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
}

func checkBusiness(v *schemas.Business) *rowError {
	if e := checkMoney("referral_rate", v.ReferralRate, rate); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *businesses) add(v *schemas.Business, r *kgo.Record) {
	t.eventID = append(t.eventID, v.EventID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.name = append(t.name, v.Name)
	t.sector = append(t.sector, v.Sector)
	t.referralRate = append(t.referralRate, v.ReferralRate)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}

// ---- feedback ----

type feedback struct {
	table
	eventID, clientID, businessID strCol
	kind                          i8Col
	score                         u8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
	meta
}

func newFeedback(db string) *feedback {
	t := &feedback{}
	t.init(db, "feedback", append([]namedCol{
		{"event_id", &t.eventID}, {"client_id", &t.clientID}, {"business_id", &t.businessID},
		{"kind", &t.kind}, {"score", &t.score},
		{"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
}

func feedbackKind(k schemas.FeedbackKind) (int8, bool) {
	switch k {
	case schemas.FeedbackNPS:
		return 1, true
	case schemas.FeedbackCSAT:
		return 2, true
	}
	return 0, false
}

func checkFeedback(v *schemas.Feedback) *rowError {
	if _, ok := feedbackKind(v.Kind); !ok {
		return fieldErr("kind", "invalid", "unknown kind %q", v.Kind)
	}
	if v.Score < 0 || v.Score > 10 {
		return fieldErr("score", "range", "%d is outside 0..10", v.Score)
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *feedback) add(v *schemas.Feedback, r *kgo.Record) {
	k, _ := feedbackKind(v.Kind)
	t.eventID = append(t.eventID, v.EventID)
	t.clientID = append(t.clientID, v.ClientID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.kind = append(t.kind, k)
	t.score = append(t.score, uint8(v.Score))
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}

// ---- acquisition_costs ----

type acquisitionCosts struct {
	table
	eventID, businessID strCol
	amount              decCol
	currency, channel   strCol
	occurredAt          timeCol
	occurredNs          u32Col
	meta
}

func newAcquisitionCosts(db string) *acquisitionCosts {
	t := &acquisitionCosts{}
	t.init(db, "acquisition_costs", append([]namedCol{
		{"event_id", &t.eventID}, {"business_id", &t.businessID}, {"amount", &t.amount},
		{"currency", &t.currency}, {"channel", &t.channel},
		{"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
	}, t.meta.cols()...))
	return t
}

func checkAcquisitionCost(v *schemas.AcquisitionCost) *rowError {
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (t *acquisitionCosts) add(v *schemas.AcquisitionCost, r *kgo.Record) {
	t.eventID = append(t.eventID, v.EventID)
	t.businessID = append(t.businessID, v.BusinessID)
	t.amount = append(t.amount, v.Amount)
	t.currency = append(t.currency, v.Currency)
	t.channel = append(t.channel, v.Channel)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	t.meta.add(r)
	t.added(r)
}

// ---- referral_owners ----

type referralOwners struct {
	table
	clientID, ownerBusinessID strCol
	ownedSince                timeCol
	ownedSinceNs              u32Col
	source                    i8Col
	eventID                   strCol
	meta
}

func newReferralOwners(db string) *referralOwners {
	t := &referralOwners{}
	t.init(db, "referral_owners", append([]namedCol{
		{"client_id", &t.clientID}, {"owner_business_id", &t.ownerBusinessID},
		{"owned_since", &t.ownedSince}, {"owned_since_ns", &t.ownedSinceNs},
		{"source", &t.source}, {"event_id", &t.eventID},
	}, t.meta.cols()...))
	return t
}

func ownerSource(s schemas.OwnerSource) (int8, bool) {
	switch s {
	case schemas.OwnerByEnrollment:
		return 1, true
	case schemas.OwnerByBooking:
		return 2, true
	}
	return 0, false
}

func checkReferralOwner(v *schemas.ReferralOwner) *rowError {
	if _, ok := ownerSource(v.Source); !ok {
		return fieldErr("source", "invalid", "unknown source %q", v.Source)
	}
	return checkTimeField("owned_since", v.OwnedSince)
}

func (t *referralOwners) add(v *schemas.ReferralOwner, r *kgo.Record) {
	src, _ := ownerSource(v.Source)
	t.clientID = append(t.clientID, v.ClientID)
	t.ownerBusinessID = append(t.ownerBusinessID, v.OwnerBusinessID)
	at, ns := secs(v.OwnedSince)
	t.ownedSince = append(t.ownedSince, at)
	t.ownedSinceNs = append(t.ownedSinceNs, ns)
	t.source = append(t.source, src)
	t.eventID = append(t.eventID, v.EventID)
	t.meta.add(r)
	t.added(r)
}

// ---- commissions ----

type commissions struct {
	table
	commissionID                  strCol
	kind, reason                  i8Col
	ownerID, providerID, clientID strCol
	bookingID                     strCol
	bookingAmount, rate, amount   decCol
	currency                      strCol
	occurredAt, payableAt         timeCol
	occurredNs, payableNs         u32Col
	sourceEventID                 strCol
	meta
}

func newCommissions(db string) *commissions {
	t := &commissions{}
	t.init(db, "commissions", append([]namedCol{
		{"commission_id", &t.commissionID}, {"kind", &t.kind}, {"reason", &t.reason},
		{"owner_business_id", &t.ownerID}, {"provider_business_id", &t.providerID},
		{"client_id", &t.clientID}, {"booking_id", &t.bookingID},
		{"booking_amount", &t.bookingAmount}, {"rate", &t.rate}, {"amount", &t.amount},
		{"currency", &t.currency}, {"occurred_at", &t.occurredAt}, {"occurred_at_ns", &t.occurredNs},
		{"payable_at", &t.payableAt}, {"payable_at_ns", &t.payableNs},
		{"source_event_id", &t.sourceEventID},
	}, t.meta.cols()...))
	return t
}

func commissionKind(k schemas.CommissionKind) (int8, bool) {
	switch k {
	case schemas.Accrual:
		return 1, true
	case schemas.Reversal:
		return 2, true
	}
	return 0, false
}

func commissionReason(r schemas.Reason) (int8, bool) {
	switch r {
	case schemas.ReasonCompleted:
		return 1, true
	case schemas.ReasonRefund:
		return 2, true
	case schemas.ReasonCancellation:
		return 3, true
	case schemas.ReasonOwnershipCorrection:
		return 4, true
	}
	return 0, false
}

func checkCommission(v *schemas.Commission) *rowError {
	if _, ok := commissionKind(v.Kind); !ok {
		return fieldErr("kind", "invalid", "unknown kind %q", v.Kind)
	}
	if _, ok := commissionReason(v.Reason); !ok {
		return fieldErr("reason", "invalid", "unknown reason %q", v.Reason)
	}
	if e := checkMoney("booking_amount", v.BookingAmount, money); e != nil {
		return e
	}
	if e := checkMoney("rate", v.Rate, rate); e != nil {
		return e
	}
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	if e := checkTimeField("occurred_at", v.OccurredAt); e != nil {
		return e
	}
	return checkTimeField("payable_at", v.PayableAt)
}

func (t *commissions) add(v *schemas.Commission, r *kgo.Record) {
	k, _ := commissionKind(v.Kind)
	why, _ := commissionReason(v.Reason)
	t.commissionID = append(t.commissionID, v.CommissionID)
	t.kind = append(t.kind, k)
	t.reason = append(t.reason, why)
	t.ownerID = append(t.ownerID, v.OwnerBusinessID)
	t.providerID = append(t.providerID, v.ProviderBusinessID)
	t.clientID = append(t.clientID, v.ClientID)
	t.bookingID = append(t.bookingID, v.BookingID)
	t.bookingAmount = append(t.bookingAmount, v.BookingAmount)
	t.rate = append(t.rate, v.Rate)
	t.amount = append(t.amount, v.Amount)
	t.currency = append(t.currency, v.Currency)
	at, ns := secs(v.OccurredAt)
	t.occurredAt = append(t.occurredAt, at)
	t.occurredNs = append(t.occurredNs, ns)
	pat, pns := secs(v.PayableAt)
	t.payableAt = append(t.payableAt, pat)
	t.payableNs = append(t.payableNs, pns)
	t.sourceEventID = append(t.sourceEventID, v.SourceEventID)
	t.meta.add(r)
	t.added(r)
}

// ---- payouts ----

type payouts struct {
	table
	payoutID, ownerID, currency                  strCol
	periodStart, periodEnd                       timeCol
	opening, accrued, reversed, net, payable, cf decCol
	count                                        u32Col
	commissionIDs                                strArrCol
	meta
}

func newPayouts(db string) *payouts {
	t := &payouts{}
	t.init(db, "payouts", append([]namedCol{
		{"payout_id", &t.payoutID}, {"owner_business_id", &t.ownerID}, {"currency", &t.currency},
		{"period_start", &t.periodStart}, {"period_end", &t.periodEnd},
		{"opening_balance", &t.opening}, {"accrued", &t.accrued}, {"reversed", &t.reversed},
		{"net", &t.net}, {"payable", &t.payable}, {"carried_forward", &t.cf},
		{"commission_count", &t.count}, {"commission_ids", &t.commissionIDs},
	}, t.meta.cols()...))
	return t
}

func checkPayout(v *schemas.Payout) *rowError {
	for _, f := range []struct {
		name string
		v    decimal.Decimal
	}{
		{"opening_balance", v.OpeningBalance}, {"accrued", v.Accrued}, {"reversed", v.Reversed},
		{"net", v.Net}, {"payable", v.Payable}, {"carried_forward", v.CarriedForward},
	} {
		if e := checkMoney(f.name, f.v, money); e != nil {
			return e
		}
	}
	if v.CommissionCount < 0 || int64(v.CommissionCount) > 1<<32-1 {
		return fieldErr("commission_count", "range", "%d does not fit UInt32", v.CommissionCount)
	}
	if e := checkTimeField("period_start", v.PeriodStart); e != nil {
		return e
	}
	return checkTimeField("period_end", v.PeriodEnd)
}

func (t *payouts) add(v *schemas.Payout, r *kgo.Record) {
	t.payoutID = append(t.payoutID, v.PayoutID)
	t.ownerID = append(t.ownerID, v.OwnerBusinessID)
	t.currency = append(t.currency, v.Currency)
	t.periodStart = append(t.periodStart, v.PeriodStart)
	t.periodEnd = append(t.periodEnd, v.PeriodEnd)
	t.opening = append(t.opening, v.OpeningBalance)
	t.accrued = append(t.accrued, v.Accrued)
	t.reversed = append(t.reversed, v.Reversed)
	t.net = append(t.net, v.Net)
	t.payable = append(t.payable, v.Payable)
	t.cf = append(t.cf, v.CarriedForward)
	t.count = append(t.count, uint32(v.CommissionCount))
	ids := v.CommissionIDs
	if ids == nil {
		ids = []string{}
	}
	t.commissionIDs = append(t.commissionIDs, ids)
	t.meta.add(r)
	t.added(r)
}

// ---- dlq ----

type dlq struct {
	table
	sourceTopic                       strCol
	sourcePartition                   i32Col
	sourceOffset                      i64Col
	key, value, errText, label, owner strCol
	failedAt                          timeCol
	meta
}

func newDLQ(db string) *dlq {
	t := &dlq{}
	t.init(db, "dlq", append([]namedCol{
		{"source_topic", &t.sourceTopic}, {"source_partition", &t.sourcePartition},
		{"source_offset", &t.sourceOffset}, {"key", &t.key}, {"value", &t.value},
		{"error", &t.errText}, {"error_label", &t.label}, {"consumer", &t.owner},
		{"failed_at", &t.failedAt},
	}, t.meta.cols()...))
	return t
}

// addLetter stores a record of the pipeline's dead-letter topic as it was written.
func (t *dlq) addLetter(v *schemas.DeadLetter, r *kgo.Record) {
	t.sourceTopic = append(t.sourceTopic, v.Topic)
	t.sourcePartition = append(t.sourcePartition, v.Partition)
	t.sourceOffset = append(t.sourceOffset, v.Offset)
	t.key = append(t.key, string(v.Key))
	t.value = append(t.value, string(v.Value))
	t.errText = append(t.errText, v.Error)
	t.label = append(t.label, v.Reason) // the producer's poison label; "" from producers that set none
	t.owner = append(t.owner, v.Consumer)
	fa := v.FailedAt
	if checkTime(fa) != "" {
		fa = minDateTime
	}
	t.failedAt = append(t.failedAt, fa)
	t.meta.add(r)
	t.added(r)
}

// addFailed stores a record the sink itself could not store.
func (t *dlq) addFailed(r *kgo.Record, e *rowError, consumer string, now time.Time) {
	t.sourceTopic = append(t.sourceTopic, r.Topic)
	t.sourcePartition = append(t.sourcePartition, r.Partition)
	t.sourceOffset = append(t.sourceOffset, r.Offset)
	t.key = append(t.key, string(r.Key))
	t.value = append(t.value, string(r.Value))
	t.errText = append(t.errText, e.Error())
	t.label = append(t.label, e.label)
	t.owner = append(t.owner, consumer)
	t.failedAt = append(t.failedAt, now)
	t.meta.add(r)
	t.added(r)
}
