package commission

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Config configures an Engine. The zero value means the defaults.
type Config struct {
	DefaultRate decimal.Decimal // platform rate when the owner has none in force; zero → 0.05
	Hold        time.Duration   // zero → 14 days; accrual payable_at = booking time + Hold (R7)
	Horizon     time.Duration   // zero → 400 days; bookings kept in state for refunds/corrections
	// Bounds are the limits of SPEC R8 (zero: the defaults). The engine checks every event it
	// is handed against them, so no time in state can wrap and no hostile value reaches a
	// commission, even when the caller decoded with other bounds.
	Bounds schemas.Bounds
}

// Defaults of Config.
const (
	DefaultHold    = 14 * 24 * time.Hour
	DefaultHorizon = 400 * 24 * time.Hour
)

// WithDefaults returns c with every zero field replaced by its default (DefaultRate 0.05).
func (c Config) WithDefaults() Config {
	if c.DefaultRate.IsZero() {
		c.DefaultRate = decimal.New(5, -2)
	}
	if c.Hold == 0 {
		c.Hold = DefaultHold
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultHorizon
	}
	return c
}

// Engine applies the ledger rules to one client's State at a time. It holds no per-client
// data; it is safe for concurrent use on different States.
type Engine struct {
	rate    decimal.Decimal
	hold    int64
	horizon time.Duration
	rates   *Rates
	bounds  schemas.Bounds

	mu    sync.RWMutex
	names map[string]string // interned business ids and currency codes
}

// New validates cfg and returns an Engine reading owner rates from rates (nil: no business
// has a rate, the default applies to all).
func New(cfg Config, rates *Rates) (*Engine, error) {
	cfg = cfg.WithDefaults()
	switch {
	case cfg.DefaultRate.Sign() < 0 || cfg.DefaultRate.GreaterThan(decimal.NewFromInt(1)):
		return nil, errors.New("ledger config: default rate must be a fraction in (0, 1]")
	case cfg.Hold < 0:
		return nil, errors.New("ledger config: hold must not be negative")
	case cfg.Horizon < 0:
		return nil, errors.New("ledger config: horizon must not be negative")
	case cfg.Hold > schemas.TimeSlack || cfg.Horizon > schemas.TimeSlack:
		return nil, fmt.Errorf("ledger config: hold and horizon must not exceed %s (times in state would not fit)", schemas.TimeSlack)
	}
	if err := cfg.Bounds.Validate(); err != nil {
		return nil, fmt.Errorf("ledger config: %w", err)
	}
	if rates == nil {
		rates = NewRates()
	}
	return &Engine{
		rate:    cfg.DefaultRate,
		hold:    int64(cfg.Hold),
		horizon: cfg.Horizon,
		rates:   rates,
		bounds:  cfg.Bounds.WithDefaults(),
		names:   make(map[string]string),
	}, nil
}

// Result is what one event did to a client.
type Result struct {
	Owner       *schemas.ReferralOwner // non-nil when this event set or changed the owner
	Commissions []schemas.Commission   // ledger entries to append, in order
	// Facts are the purchase-fact deltas of this event (schemas.PurchaseFact), in order: one
	// per change of the booking's judgement and one per ledger entry. nil when none.
	Facts     []schemas.PurchaseFact
	Duplicate bool // event_id already applied: no effect
	Rejected  bool // an enrollment by another business that did not win ownership (R1)
}

func (e *Engine) intern(s string) string {
	e.mu.RLock()
	v, ok := e.names[s]
	e.mu.RUnlock()
	if ok {
		return v
	}
	return e.store(s)
}

func (e *Engine) internBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	e.mu.RLock()
	v, ok := e.names[string(b)]
	e.mu.RUnlock()
	if ok {
		return v
	}
	return e.store(string(b))
}

func (e *Engine) store(s string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.names[s]; ok {
		return v
	}
	v := strings.Clone(s)
	e.names[v] = v
	return v
}

// UnmarshalState is State.UnmarshalBinary with business ids and currencies interned, so that
// restored states share them (the way states built by the Engine do).
func (e *Engine) UnmarshalState(s *State, data []byte) error {
	return s.unmarshal(data, e.internBytes)
}

// rateOf is the owner's rate in force at t among the rates announced by asOf, else the
// default (R2).
func (e *Engine) rateOf(owner string, t, asOf int64) decimal.Decimal {
	if r, ok := e.rates.at(owner, t, asOf); ok {
		return r
	}
	return e.rate
}

// Enrollment applies an enrollment (R1). Enrollments need no dedupe state: applying one is
// idempotent, because ownership is the minimum (occurred_at, event_id) over establishing
// events, and a redelivered enrollment either is the current owner's event (Duplicate) or
// loses to it (Rejected).
func (e *Engine) Enrollment(s *State, ev schemas.Enrollment) (Result, error) {
	return e.AppendEnrollment(nil, s, ev)
}

// AppendEnrollment is Enrollment with the ledger entries appended to dst (Result.Commissions).
// A booking it moves to a new owner is judged with the rates announced by the booking's own
// announcement (AppendBookingAsOf), not by the enrollment's.
func (e *Engine) AppendEnrollment(dst []schemas.Commission, s *State, ev schemas.Enrollment) (Result, error) {
	switch {
	case ev.EventID == "":
		return Result{}, invalid(schemas.LabelMissingField, "enrollment: event_id is required")
	case ev.BusinessID == "":
		return Result{}, invalid(schemas.LabelMissingField, "enrollment %s: business_id is required", ev.EventID)
	}
	if err := e.bounds.CheckEnrollment(ev); err != nil {
		return Result{}, bounded(err, "enrollment "+schemas.Quote([]byte(ev.EventID)))
	}
	t := ev.OccurredAt.UnixNano() // within the bounds: no wrap (Bounds.Validate)
	if s.owner != "" {
		switch c := s.cmpEst(t, ev.EventID); {
		case c == 0:
			return Result{Commissions: dst, Duplicate: true}, nil
		case c > 0:
			return Result{Commissions: dst, Rejected: ev.BusinessID != s.owner}, nil
		}
	}
	res := Result{Commissions: dst}
	res.Owner = e.establish(&res, s, e.intern(ev.BusinessID), t, ev.EventID, srcEnrollment, ev.ClientID, ev.EventID)
	return res, nil
}

// establish makes owner the client's owner by the establishing event (t, id) and re-judges
// every kept booking when the owner business changes (R5).
func (e *Engine) establish(res *Result, s *State, owner string, t int64, id string, src uint8, client, trigger string) *schemas.ReferralOwner {
	old := s.owner
	s.setOwner(owner, t, id, src)
	if old != "" && old != owner && s.x != nil {
		for i := range s.x.books {
			e.rejudge(res, s, &s.x.books[i], owner, client, trigger, t)
		}
	}
	ro, _ := s.Owner()
	ro.ClientID = client
	ro.EventID = id
	return &ro
}

// rejudge moves booking b to owner: a reversal of what its previous owner keeps and an
// accrual of what owner now keeps, both with reason ownership_correction.
func (e *Engine) rejudge(res *Result, s *State, b *book, owner, client, trigger string, t int64) {
	if !b.done || b.owner == owner {
		return
	}
	if k := b.kept(); k.Sign() > 0 {
		e.add(res, b, e.entry(schemas.Reversal, schemas.ReasonOwnershipCorrection,
			b, b.owner, k.Neg(), client, trigger, t, max(b.payable, t)))
	}
	if b.provider == owner {
		b.owner = ""
		b.setRate(decimal.Decimal{})
		return
	}
	b.owner, b.payable = owner, b.at+e.hold
	b.setRate(e.rateOf(owner, b.at, b.announced))
	if k := b.kept(); k.Sign() > 0 {
		e.add(res, b, e.entry(schemas.Accrual, schemas.ReasonOwnershipCorrection,
			b, owner, k, client, trigger, t, b.payable))
	}
}

// Booking applies one booking lifecycle event (R1–R5).
func (e *Engine) Booking(s *State, ev schemas.Booking) (Result, error) {
	return e.AppendBooking(nil, s, ev)
}

// AppendBooking is Booking with the ledger entries appended to dst (Result.Commissions), so a
// caller can reuse one slice across events. After a booking event is applied, the client's
// bookings past its own horizon are pruned (see PruneOwn).
func (e *Engine) AppendBooking(dst []schemas.Commission, s *State, ev schemas.Booking) (Result, error) {
	return e.appendBookingPruned(dst, nil, s, ev, math.MaxInt64)
}

// AppendBookingAsOf is AppendBooking for a booking event announced at asOf (its record's
// timestamp): a completed booking is judged — now and in every later ownership correction —
// with the rates announced at or before the announcement of its completion
// (Rates.ApplyAnnounced), so that a rate announced after it does not count (R2: rates are not
// retroactive), however fast the table was read and whichever record triggers the judgement.
func (e *Engine) AppendBookingAsOf(dst []schemas.Commission, s *State, ev schemas.Booking, asOf time.Time) (Result, error) {
	return e.appendBookingPruned(dst, nil, s, ev, asOf.UnixNano())
}

// AppendBookingFactsAsOf is AppendBookingAsOf with the purchase-fact deltas appended to
// facts (Result.Facts; empty, not nil, when there are none): a caller done with a Result's
// facts before the next event (the ledger encodes them at once) reuses both slices, and a
// completion allocates no fact slice.
func (e *Engine) AppendBookingFactsAsOf(dst []schemas.Commission, facts []schemas.PurchaseFact, s *State,
	ev schemas.Booking, asOf time.Time) (Result, error) {
	return e.appendBookingPruned(dst, facts, s, ev, asOf.UnixNano())
}

func (e *Engine) appendBookingPruned(dst []schemas.Commission, facts []schemas.PurchaseFact, s *State, ev schemas.Booking,
	asOf int64) (Result, error) {
	res, err := e.appendBooking(dst, facts, s, ev, asOf)
	if err == nil && !res.Duplicate {
		e.pruneOwn(s, ev.OccurredAt.UnixNano()) // within the bounds (checked in appendBooking)
	}
	return res, err
}

// appendBooking checks ev, finds its booking and applies ev by its status.
func (e *Engine) appendBooking(dst []schemas.Commission, facts []schemas.PurchaseFact, s *State, ev schemas.Booking,
	asOf int64) (Result, error) {
	res := Result{Commissions: dst, Facts: facts}
	if err := e.checkBooking(&ev); err != nil {
		return res, err
	}
	t := ev.OccurredAt.UnixNano() // within the bounds: no wrap (Bounds.Validate)
	h := hashID(ev.EventID)
	b, prev, dup, err := locateBooking(s, &ev, t, h)
	if err != nil || dup {
		res.Duplicate = dup
		return res, err
	}
	if err := transition(prev, ev); err != nil {
		return res, err
	}
	switch ev.Status {
	case schemas.StatusCreated, schemas.StatusConfirmed:
		if b == nil {
			b = s.add(newBook(ev.BookingID, e.intern(ev.BusinessID)))
		}
		b.status, b.at = ev.Status, t
		b.addSeen(h)
		return res, nil
	case schemas.StatusCompleted:
		return res, e.completed(&res, s, b, &ev, t, h, asOf)
	case schemas.StatusRefunded:
		return res, e.refunded(&res, b, &ev, t, h)
	default:
		e.cancelled(&res, s, b, &ev, t, h)
		return res, nil
	}
}

// checkBooking refuses a booking event without its ids, with an unknown status or out of
// the bounds.
func (e *Engine) checkBooking(ev *schemas.Booking) error {
	switch {
	case ev.EventID == "":
		return invalid(schemas.LabelMissingField, "booking %s: event_id is required", ev.BookingID)
	case ev.BookingID == "":
		return invalid(schemas.LabelMissingField, "booking event %s: booking_id is required", ev.EventID)
	case ev.BusinessID == "":
		return invalid(schemas.LabelMissingField, "booking %s event %s: business_id is required", ev.BookingID, ev.EventID)
	case ev.Status < schemas.StatusCreated || ev.Status > schemas.StatusRefunded:
		return invalid(schemas.LabelUnknownStatus, "booking %s event %s: unknown status %d", ev.BookingID, ev.EventID, ev.Status)
	}
	if err := e.bounds.CheckBooking(*ev); err != nil {
		return bounded(err, "booking "+schemas.Quote([]byte(ev.BookingID))+" event "+schemas.Quote([]byte(ev.EventID)))
	}
	return nil
}

// locateBooking finds ev's booking in s (nil: none yet) and its status so far; dup says ev
// (hashed h, at t) was applied before. A new booking older than the kept horizon, or one
// event naming another provider, is refused.
func locateBooking(s *State, ev *schemas.Booking, t int64, h uint64) (b *book, prev schemas.Status, dup bool, err error) {
	i := s.find(ev.BookingID)
	if i < 0 {
		if s.pruned != 0 && t < s.pruned {
			return nil, 0, false, invalid(schemas.LabelBeyondHorizon, "booking %s event %s: occurred_at %s is before the kept horizon %s",
				ev.BookingID, ev.EventID, ev.OccurredAt.UTC().Format(time.RFC3339Nano), time.Unix(0, s.pruned).UTC().Format(time.RFC3339Nano))
		}
		return nil, schemas.StatusUnknown, false, nil
	}
	b = &s.x.books[i]
	if b.seenEvent(h) {
		return b, b.status, true, nil
	}
	if b.provider != ev.BusinessID {
		return nil, 0, false, invalid(schemas.LabelProviderMismatch, "booking %s event %s: business_id %q, the booking's provider is %q",
			ev.BookingID, ev.EventID, ev.BusinessID, b.provider)
	}
	return b, b.status, false, nil
}

// completed applies a completion (R1, R2): the booking's amount, an establishing event for
// the client, and the accrual of what its owner keeps.
func (e *Engine) completed(res *Result, s *State, b *book, ev *schemas.Booking, t int64, h uint64, asOf int64) error {
	if ev.Amount.Sign() <= 0 {
		return invalid(schemas.LabelNonPositiveAmount, "booking %s event %s: completed with amount %s, must be positive", ev.BookingID, ev.EventID, ev.Amount)
	}
	cur, ok := schemas.CurrencyIndex(ev.Currency)
	if !ok {
		return invalid(schemas.LabelUnknownCurrency, "booking %s event %s: unknown currency %q", ev.BookingID, ev.EventID, ev.Currency)
	}
	if b == nil {
		b = s.add(newBook(ev.BookingID, e.intern(ev.BusinessID)))
	}
	b.status, b.done, b.at = schemas.StatusCompleted, true, t
	b.cur = cur
	b.setAmount(ev.Amount)
	b.setRefunded(decimal.Decimal{})
	b.owner, b.announced = "", asOf
	b.setRate(decimal.Decimal{})
	b.addSeen(h)
	e.judged(res, b, ev.BookingID, FactPurchase, ev.ClientID, ev.EventID, t, 1, ev.Amount, decimal.Decimal{})
	// A completed booking is itself an establishing event (R1): the booking always has an owner.
	if s.owner == "" || s.cmpEst(t, ev.EventID) < 0 {
		res.Owner = e.establish(res, s, b.provider, t, ev.EventID, srcBooking, ev.ClientID, ev.EventID)
	}
	if b.provider != s.owner {
		b.owner, b.payable = s.owner, t+e.hold
		b.setRate(e.rateOf(s.owner, t, b.announced))
		if k := b.kept(); k.Sign() > 0 {
			e.add(res, b, e.entry(schemas.Accrual, schemas.ReasonCompleted,
				b, b.owner, k, ev.ClientID, ev.EventID, t, b.payable))
		}
	}
	return nil
}

// refunded applies a refund (R3): the reversal of what the owner no longer keeps.
func (e *Engine) refunded(res *Result, b *book, ev *schemas.Booking, t int64, h uint64) error {
	r := ev.RefundAmount
	if r.Sign() <= 0 {
		return invalid(schemas.LabelNonPositiveAmount, "booking %s event %s: refund_amount %s, must be positive", ev.BookingID, ev.EventID, r)
	}
	if ev.Currency != "" && ev.Currency != b.currency() {
		return invalid(schemas.LabelCurrencyMismatch, "booking %s event %s: refund in %s, the booking is in %s", ev.BookingID, ev.EventID, ev.Currency, b.currency())
	}
	left := b.amountDec().Sub(b.refundedDec())
	if r.GreaterThan(left) {
		return invalid(schemas.LabelRefundExceeds, "booking %s event %s: refund %s %s beyond the %s %s left", ev.BookingID, ev.EventID, r, b.currency(), left, b.currency())
	}
	before := b.kept()
	b.status = schemas.StatusRefunded
	b.setRefunded(b.refundedDec().Add(r))
	b.addSeen(h)
	e.judged(res, b, ev.BookingID, FactRefund, ev.ClientID, ev.EventID, t, 0, decimal.Decimal{}, r)
	if d := before.Sub(b.kept()); d.Sign() > 0 {
		e.add(res, b, e.entry(schemas.Reversal, schemas.ReasonRefund,
			b, b.owner, d.Neg(), ev.ClientID, ev.EventID, t, max(b.payable, t)))
	}
	return nil
}

// cancelled applies a cancellation (R3): the reversal of all the owner keeps.
func (e *Engine) cancelled(res *Result, s *State, b *book, ev *schemas.Booking, t int64, h uint64) {
	if b == nil {
		b = s.add(newBook(ev.BookingID, e.intern(ev.BusinessID)))
		b.at = t
	}
	before := b.kept()
	b.status = schemas.StatusCancelled
	if !b.done {
		b.at = t
	}
	b.addSeen(h)
	if b.done {
		e.judged(res, b, ev.BookingID, FactCancellation, ev.ClientID, ev.EventID, t, -1, b.amountDec().Neg(), b.refundedDec().Neg())
	}
	if before.Sign() > 0 {
		e.add(res, b, e.entry(schemas.Reversal, schemas.ReasonCancellation,
			b, b.owner, before.Neg(), ev.ClientID, ev.EventID, t, max(b.payable, t)))
	}
}

// transition checks the booking lifecycle (SPEC "Booking lifecycle"): the statuses are
// ordered created < confirmed < completed < refunded and a booking only moves forward, so any
// step may be skipped (created → completed) and a booking may start at any status but
// refunded; refunded may repeat (each refund is its own event); cancelled may follow created,
// confirmed or completed, or start a booking. A move backwards or a repeat of another status,
// a refund before completed (refund_not_completed), refunded → cancelled and anything after
// cancelled (after_cancelled) are invalid. TestTransitionTable pins every pair.
func transition(prev schemas.Status, ev schemas.Booking) error {
	next := ev.Status
	if prev == schemas.StatusCancelled {
		return invalid(schemas.LabelAfterCancelled, "booking %s event %s: %s after cancelled", ev.BookingID, ev.EventID, statusName(next))
	}
	switch next {
	case schemas.StatusRefunded:
		if prev == schemas.StatusCompleted || prev == schemas.StatusRefunded {
			return nil
		}
		if prev == schemas.StatusUnknown {
			return invalid(schemas.LabelRefundNotCompleted, "booking %s event %s: refund of a booking not completed (or beyond the kept horizon)", ev.BookingID, ev.EventID)
		}
		return invalid(schemas.LabelRefundNotCompleted, "booking %s event %s: refund of a booking that is %s, not completed", ev.BookingID, ev.EventID, statusName(prev))
	case schemas.StatusCancelled:
		if prev != schemas.StatusRefunded {
			return nil
		}
	default:
		if lifecycleRank(next) > lifecycleRank(prev) {
			return nil
		}
	}
	return invalid(schemas.LabelInvalidTransition, "booking %s event %s: transition %s → %s not allowed", ev.BookingID, ev.EventID, statusName(prev), statusName(next))
}

// lifecycleRank orders the forward statuses; unknown (no event yet) is below them all.
func lifecycleRank(s schemas.Status) int {
	switch s {
	case schemas.StatusCreated:
		return 1
	case schemas.StatusConfirmed:
		return 2
	case schemas.StatusCompleted:
		return 3
	case schemas.StatusRefunded:
		return 4
	}
	return 0
}

func statusName(s schemas.Status) string {
	switch s {
	case schemas.StatusCreated:
		return "created"
	case schemas.StatusConfirmed:
		return "confirmed"
	case schemas.StatusCompleted:
		return "completed"
	case schemas.StatusCancelled:
		return "cancelled"
	case schemas.StatusRefunded:
		return "refunded"
	}
	return "unknown"
}

// entry builds one ledger entry. commission_id is the first 16 bytes (hex) of
// sha256(trigger event_id, booking_id, owner, kind, reason): one trigger yields at most one
// entry per (booking, owner, kind, reason), so ids are unique and identical on replay (R4).
func (e *Engine) entry(kind schemas.CommissionKind, reason schemas.Reason, b *book, owner string, amount decimal.Decimal,
	client, trigger string, t, payable int64) schemas.Commission {
	id := b.idString()
	return schemas.Commission{
		CommissionID:       commissionID(trigger, id, owner, kind, reason),
		Kind:               kind,
		Reason:             reason,
		OwnerBusinessID:    owner,
		ProviderBusinessID: b.provider,
		ClientID:           client,
		BookingID:          id,
		BookingAmount:      b.amountDec(),
		Rate:               b.rateDec(),
		Amount:             amount,
		Currency:           b.currency(),
		OccurredAt:         time.Unix(0, t).UTC(),
		PayableAt:          time.Unix(0, payable).UTC(),
		SourceEventID:      trigger,
	}
}

func commissionID(trigger, bookingID, owner string, kind schemas.CommissionKind, reason schemas.Reason) string {
	return digestID(trigger, bookingID, owner, string(kind), string(reason))
}

// digestID is the first 16 bytes (hex) of sha256(part ‖ 0 ‖ part ‖ 0 …): the commission_id
// and the fact_id of the non-commission facts.
func digestID(parts ...string) string {
	var buf [256]byte
	in := buf[:0]
	for _, s := range parts {
		in = append(in, s...)
		in = append(in, 0)
	}
	sum := sha256.Sum256(in)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// PruneOwn drops the client's bookings past its own horizon: those whose time (completion,
// else latest event) is before the client's clock − Horizon, the clock being the latest time
// of its kept bookings. It reports whether it dropped any.
//
// The horizon is per client on purpose (SPEC R8: a valid record is never refused because of
// another client's record): only the client's own booking events move its clock, and they
// arrive on one partition of one topic in offset order, so a replay prunes identically and
// neither another client's far-future event nor the interleaving of the enrollments and
// bookings topics can change what is kept.
func (e *Engine) PruneOwn(s *State) bool {
	if s.x == nil || len(s.x.books) == 0 {
		return false
	}
	n := len(s.x.books)
	e.pruneOwn(s, s.x.books[0].at)
	return s.x == nil || len(s.x.books) != n
}

// pruneOwn is PruneOwn with the clock also at or after t, the time of the booking event just
// applied.
func (e *Engine) pruneOwn(s *State, t int64) {
	if s.x == nil {
		return
	}
	clock := t
	for i := range s.x.books {
		clock = max(clock, s.x.books[i].at)
	}
	e.prune(s, clock-int64(e.horizon))
}

// Prune drops the bookings whose time (completion, else latest event) is before
// watermark − Horizon. Events of a dropped booking that arrive later are refused
// (schemas.LabelBeyondHorizon, or schemas.LabelRefundNotCompleted for a refund) instead of counting twice.
// The ledger consumer prunes with PruneOwn; Prune is for callers that hold a clock of their
// own for this client.
func (e *Engine) Prune(s *State, watermark time.Time) {
	if s.x == nil {
		return
	}
	e.prune(s, watermark.Add(-e.horizon).UnixNano())
}

func (e *Engine) prune(s *State, cut int64) {
	if s.x == nil {
		return
	}
	// Most calls cut nothing: find the first booking to drop before moving any (a book is
	// large; rewriting every kept one in place was most of the cost).
	first := 0
	for first < len(s.x.books) && s.x.books[first].at >= cut {
		first++
	}
	books := s.x.books[:first]
	for i := first; i < len(s.x.books); i++ {
		if s.x.books[i].at >= cut {
			books = append(books, s.x.books[i])
		}
	}
	if len(books) < len(s.x.books) {
		s.pruned = max(s.pruned, cut)
		clear(s.x.books[len(books):])
	}
	s.x.books = books
	if len(books) == 0 && s.x.ev == "" {
		s.x = nil
	}
}
