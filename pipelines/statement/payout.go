package statement

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Period is the length of a payout period.
type Period uint8

// Payout periods. The zero value is Month.
const (
	Month Period = iota // calendar month, UTC
	Week                // ISO week: Monday 00:00 UTC to the next Monday
)

func (p Period) String() string {
	switch p {
	case Month:
		return "month"
	case Week:
		return "week"
	}
	return fmt.Sprintf("Period(%d)", uint8(p))
}

// ParsePeriod parses "month" or "week" (the --period flag).
func ParsePeriod(s string) (Period, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "month", "monthly", "":
		return Month, nil
	case "week", "weekly":
		return Week, nil
	}
	return 0, fmt.Errorf("unknown payout period %q (month or week)", s)
}

// Defaults of Config.
const (
	DefaultCloseDelay    = 72 * time.Hour
	DefaultDedupeHorizon = 400 * 24 * time.Hour
)

// DefaultMinPayout is the minimum payout of a currency Config.MinPayout does not name: 20 in
// the currency's unit.
var defaultMinPayout = decimal.NewFromInt(20)

// Config configures an Engine. The zero value means the defaults.
type Config struct {
	// Period is the payout period: Month (default) or Week.
	Period Period
	// MinPayout is the minimum payout per ISO 4217 currency code; a balance below it carries
	// forward. Currencies not named use 20 in the currency's unit. Values must be ≥ 0 and fit
	// the currency's minor unit.
	MinPayout map[string]decimal.Decimal
	// CloseDelay is how long after period_end (in event time) a period closes. Zero means
	// DefaultCloseDelay (72h); it cannot be negative (use 1ns to close right at period_end).
	CloseDelay time.Duration
	// DedupeHorizon is how long the ids of closed entries are remembered to refuse
	// redeliveries, measured from the start of the period they were booked in. Zero means
	// DefaultDedupeHorizon (400 days).
	DedupeHorizon time.Duration
}

// ParseMinPayout parses the --min-payout flag: comma-separated CUR=amount pairs
// ("EUR=20.00,JPY=2000,BHD=20.000"). An empty string is an empty map.
func ParseMinPayout(s string) (map[string]decimal.Decimal, error) {
	m := map[string]decimal.Decimal{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		cur, amt, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("parsing minimum payout %q: want CUR=amount", kv)
		}
		d, err := decimal.NewFromString(strings.TrimSpace(amt))
		if err != nil {
			return nil, fmt.Errorf("parsing minimum payout of %s: %w", cur, err)
		}
		m[strings.TrimSpace(cur)] = d
	}
	return m, nil
}

// Engine applies the payout rules to one owner's State at a time. It holds no per-owner data
// and is safe for concurrent use on different States.
type Engine struct {
	period  Period
	min     map[string]decimal.Decimal
	delay   time.Duration
	horizon time.Duration
}

// New validates cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	e := &Engine{period: cfg.Period, delay: cfg.CloseDelay, horizon: cfg.DedupeHorizon,
		min: make(map[string]decimal.Decimal, len(cfg.MinPayout))}
	if e.period != Month && e.period != Week {
		return nil, fmt.Errorf("validating payout config: unknown period %d", cfg.Period)
	}
	if e.delay < 0 {
		return nil, fmt.Errorf("validating payout config: negative close delay %v", e.delay)
	}
	if e.delay == 0 {
		e.delay = DefaultCloseDelay
	}
	if e.horizon < 0 {
		return nil, fmt.Errorf("validating payout config: negative dedupe horizon %v", e.horizon)
	}
	if e.horizon == 0 {
		e.horizon = DefaultDedupeHorizon
	}
	for cur, d := range cfg.MinPayout {
		exp, ok := schemas.MinorUnit(cur)
		if !ok {
			return nil, fmt.Errorf("validating payout config: minimum payout for unknown currency %q", cur)
		}
		if d.Sign() < 0 {
			return nil, fmt.Errorf("validating payout config: negative minimum payout %s %s", d, cur)
		}
		if !d.Equal(d.Round(exp)) {
			return nil, fmt.Errorf("validating payout config: minimum payout %s %s has more places than the currency's %d", d, cur, exp)
		}
		e.min[cur] = d.Round(exp)
	}
	return e, nil
}

// CloseDelay is the validated close delay.
func (e *Engine) CloseDelay() time.Duration { return e.delay }

// MinPayout is the minimum payout of currency.
func (e *Engine) MinPayout(currency string) decimal.Decimal {
	if d, ok := e.min[currency]; ok {
		return d
	}
	return defaultMinPayout
}

// PeriodOf returns the payout period [start, end) that contains t.
func (e *Engine) PeriodOf(t time.Time) (start, end time.Time) {
	s := e.start(t.Unix())
	return time.Unix(s, 0).UTC(), time.Unix(e.next(s), 0).UTC()
}

// OpenFrom returns the start of the first period the watermark leaves open: every period that
// ends at or before watermark − CloseDelay is closed. The zero watermark closes nothing (the
// zero time is returned).
func (e *Engine) OpenFrom(watermark time.Time) time.Time {
	if watermark.IsZero() {
		return time.Time{}
	}
	return time.Unix(e.start(watermark.Add(-e.delay).Unix()), 0).UTC()
}

// CloseThrough returns the watermark that an explicit close of every period ending at or
// before t amounts to: t + CloseDelay.
func (e *Engine) CloseThrough(t time.Time) time.Time { return t.Add(e.delay) }

// start returns the start (unix seconds) of the period that contains unix second u.
func (e *Engine) start(u int64) int64 {
	t := time.Unix(u, 0).UTC()
	switch e.period {
	case Week:
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		return day.AddDate(0, 0, -back).Unix()
	default:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix()
	}
}

// next returns the start of the period after the one starting at s.
func (e *Engine) next(s int64) int64 {
	t := time.Unix(s, 0).UTC()
	switch e.period {
	case Week:
		return t.AddDate(0, 0, 7).Unix()
	default:
		return t.AddDate(0, 1, 0).Unix()
	}
}

// ID is the statement id of owner × currency × period: hex(sha256(owner ‖ currency ‖
// period_start in RFC 3339)[:16]), NUL-separated.
func ID(owner, currency string, periodStart time.Time) string {
	var buf [192]byte
	in := append(buf[:0], owner...)
	in = append(in, 0)
	in = append(in, currency...)
	in = append(in, 0)
	in = periodStart.UTC().AppendFormat(in, time.RFC3339)
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:16])
}

// invalid refuses an entry the payout rules cannot book (a *schemas.InvalidError labelled
// by the rule): the state it was applied to is unchanged; the runner dead-letters the record.
func invalid(label, format string, args ...any) *schemas.InvalidError {
	return schemas.Refused(label, fmt.Errorf("invalid ledger entry: "+format, args...))
}

// Outcome says what Add did with an entry.
type Outcome uint8

// Outcomes of Add.
const (
	Booked    Outcome = iota + 1 // in the period of its payable_at
	Late                         // its period was closed: booked in the first open period
	Duplicate                    // commission_id already booked: nothing changed
)

func (o Outcome) String() string {
	switch o {
	case Booked:
		return "booked"
	case Late:
		return "late"
	case Duplicate:
		return "duplicate"
	}
	return "unknown"
}

// Add books one ledger entry into s, the state of the entry's owner. Call Advance with the
// current watermark first: an entry whose period is closed lands in the first open period.
func (e *Engine) Add(s *State, c schemas.Commission) (Outcome, error) {
	return e.AddFrom(s, c, time.Time{})
}

// AddFrom is Add for an entry whose ledger input partition had reached the event-time
// watermark source before the record that caused it: the entry is booked in the period of its
// payable_at unless source already closed that period (source ≥ period_end + CloseDelay), in
// which case it is late and booked in the first period source leaves open. Both are a
// function of the entry and of its input partition alone, so every processing order books it
// alike; an owner whose clock (the low watermark over all input partitions) never exceeds any
// input partition's watermark has that period open. Should the owner's first open period be
// later still (an explicit close, an entry without a source watermark), the entry lands there,
// late. The zero source is Add.
func (e *Engine) AddFrom(s *State, c schemas.Commission, source time.Time) (Outcome, error) {
	exp, err := e.Check(s, c)
	if err != nil {
		return 0, err
	}
	s.owner = c.OwnerBusinessID
	a := s.account(c.Currency)
	i, found := a.find(c.CommissionID)
	if found || a.closedSeen(hashID(c.CommissionID)) {
		return Duplicate, nil
	}
	due := e.start(c.PayableAt.Unix())
	p := due
	if !source.IsZero() {
		p = max(p, e.start(source.Add(-e.delay).Unix()))
	}
	if s.closedSet && p < s.closed {
		p = s.closed
	}
	out := Booked
	if p != due {
		out = Late
	}
	a.entries = append(a.entries, entry{})
	copy(a.entries[i+1:], a.entries[i:])
	a.entries[i] = entry{id: c.CommissionID, amount: c.Amount.Round(exp), period: p, late: out == Late}
	return out, nil
}

// Check returns the *schemas.InvalidError Add would return for c, without changing s, and the
// currency's minor unit. A runner checks an entry before it moves any clock, so that a
// refused entry changes nothing.
func (e *Engine) Check(s *State, c schemas.Commission) (exp int32, err error) {
	switch {
	case c.CommissionID == "":
		return 0, invalid(schemas.LabelMissingField, "commission_id is empty")
	case c.OwnerBusinessID == "":
		return 0, invalid(schemas.LabelMissingField, "commission %s: owner_business_id is empty", c.CommissionID)
	case c.PayableAt.IsZero():
		return 0, invalid(schemas.LabelMissingField, "commission %s: payable_at is missing", c.CommissionID)
	}
	if s.owner != "" && s.owner != c.OwnerBusinessID {
		return 0, invalid(schemas.LabelOwnerMismatch, "commission %s: owner %q is not the state's %q", c.CommissionID, c.OwnerBusinessID, s.owner)
	}
	exp, ok := schemas.MinorUnit(c.Currency)
	if !ok {
		return 0, invalid(schemas.LabelUnknownCurrency, "commission %s: unknown currency %q", c.CommissionID, c.Currency)
	}
	if !c.Amount.Equal(c.Amount.Round(exp)) {
		return 0, invalid(schemas.LabelPlaces, "commission %s: amount %s has more places than %s's %d", c.CommissionID, c.Amount, c.Currency, exp)
	}
	if (c.Kind == schemas.Accrual && c.Amount.Sign() < 0) || (c.Kind == schemas.Reversal && c.Amount.Sign() > 0) {
		return 0, invalid(schemas.LabelSign, "commission %s: amount %s on a %s", c.CommissionID, c.Amount, c.Kind)
	}
	return exp, nil
}

// Sweep closes the periods of an idle state (no open entries, no balance: no statement can
// be due) and forgets closed ids beyond the dedupe horizon. It reports whether the state
// changed in a way worth writing (ids forgotten). States with something to state are left
// alone: only Advance, whose statements the caller writes, closes them.
func (e *Engine) Sweep(s *State, watermark time.Time) bool {
	if !s.Idle() {
		return false
	}
	before := s.remembered()
	e.Advance(nil, s, watermark)
	return s.remembered() != before
}

// Advance closes every period of s that the watermark closes (see OpenFrom), appending one
// statement per currency and closed period with entries or a non-zero opening balance to dst,
// ordered by currency, then period.
func (e *Engine) Advance(dst []schemas.Payout, s *State, watermark time.Time) []schemas.Payout {
	if watermark.IsZero() {
		return dst
	}
	target := e.start(watermark.Add(-e.delay).Unix())
	if s.closedSet && target <= s.closed {
		return dst
	}
	for k := range s.accts {
		dst = e.closeAccount(dst, s.owner, &s.accts[k], target)
	}
	s.closed, s.closedSet = target, true
	s.prune(target - int64(e.horizon/time.Second))
	return dst
}

// nextPeriod is the account's next period to close before target: the earliest period with
// entries before target, else (with a balance) the period after the last statement.
func (a *account) nextPeriod(target int64) (int64, bool) {
	p, ok := int64(0), false
	for i := range a.entries {
		if q := a.entries[i].period; q < target && (!ok || q < p) {
			p, ok = q, true
		}
	}
	if !a.balance.IsZero() && a.nextSet && (!ok || a.next < p) {
		p, ok = a.next, a.next < target
	}
	return p, ok
}

// take removes the entries of period p from the account and returns their sums, their ids
// (sorted, as the entries are), the ids of the late ones and the ids' hashes.
func (a *account) take(p int64) (accrued, reversed decimal.Decimal, ids, late []string, hashes []uint64) {
	kept := a.entries[:0]
	for _, en := range a.entries {
		if en.period != p {
			kept = append(kept, en)
			continue
		}
		if en.amount.Sign() >= 0 {
			accrued = accrued.Add(en.amount)
		} else {
			reversed = reversed.Add(en.amount)
		}
		ids = append(ids, en.id) // entries are sorted by id
		if en.late {
			late = append(late, en.id)
		}
		hashes = append(hashes, hashID(en.id))
	}
	clear(a.entries[len(kept):])
	a.entries = kept
	return accrued, reversed, ids, late, hashes
}

// closeAccount issues the statements of a for every period before target.
func (e *Engine) closeAccount(dst []schemas.Payout, owner string, a *account, target int64) []schemas.Payout {
	exp, _ := schemas.MinorUnit(a.cur)
	min := e.MinPayout(a.cur)
	for {
		p, ok := a.nextPeriod(target)
		if !ok {
			return dst
		}
		st := schemas.Payout{
			PayoutID:        ID(owner, a.cur, time.Unix(p, 0)),
			OwnerBusinessID: owner,
			Currency:        a.cur,
			PeriodStart:     time.Unix(p, 0).UTC(),
			PeriodEnd:       time.Unix(e.next(p), 0).UTC(),
			OpeningBalance:  a.balance.RoundBank(exp),
		}
		accrued, reversed, ids, late, hashes := a.take(p)
		st.Accrued = accrued.RoundBank(exp)
		st.Reversed = reversed.RoundBank(exp)
		st.Net = accrued.Add(reversed).RoundBank(exp)
		total := st.OpeningBalance.Add(st.Net)
		if total.Sign() > 0 && total.GreaterThanOrEqual(min) {
			st.Payable = total.RoundBank(exp)
			st.CarriedForward = decimal.Zero.RoundBank(exp)
		} else {
			st.Payable = decimal.Zero.RoundBank(exp)
			st.CarriedForward = total.RoundBank(exp)
		}
		st.CommissionCount = len(ids)
		st.CommissionIDs = ids
		st.LateCount = len(late)
		st.LateCommissionIDs = late
		dst = append(dst, st)
		a.balance = st.CarriedForward
		a.next, a.nextSet = e.next(p), true
		if len(hashes) > 0 {
			sort.Slice(hashes, func(i, j int) bool { return hashes[i] < hashes[j] })
			a.seen = append(a.seen, seenGroup{period: p, hashes: hashes})
		}
	}
}
