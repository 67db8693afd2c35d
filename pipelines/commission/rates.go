package commission

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

// Rates is the businesses table (taskole.businesses.v1): every business's referral-rate
// history. Every ledger instance reads the topic in full and applies each event; Apply is
// idempotent per event_id and order-independent. Rates is safe for concurrent use.
//
// Each event also carries when it was announced (ApplyAnnounced: the businesses record's
// timestamp), and a lookup as of an instant sees only the events announced at or before it
// (AtAsOf): "a businesses event that arrives after the bookings it would have covered were
// judged does not change them" (R2) then means arrived after the booking's record, a fact of
// the logs, not of how fast the table was read.
type Rates struct {
	bounds schemas.Bounds
	mu     sync.RWMutex
	m      map[string][]rateAt // per business, sorted by (at, eventID)
}

type rateAt struct {
	at        int64 // unix nanos
	announced int64 // unix nanos; math.MinInt64: always visible
	eventID   string
	rate      decimal.Decimal
}

func (a rateAt) cmp(b rateAt) int {
	if a.at != b.at {
		if a.at < b.at {
			return -1
		}
		return 1
	}
	return strings.Compare(a.eventID, b.eventID)
}

// NewRates returns an empty table under the default bounds.
func NewRates() *Rates { return NewRatesWithin(schemas.Bounds{}) }

// NewRatesWithin returns an empty table that refuses events outside bounds.
func NewRatesWithin(bounds schemas.Bounds) *Rates {
	return &Rates{bounds: bounds.WithDefaults(), m: make(map[string][]rateAt)}
}

// Apply records a business's referral rate from its occurred_at on. A repeated event_id
// replaces the earlier one. An event outside the bounds (SPEC R8: a rate in [0, 1] with at
// most 6 decimals, a time in [1970, 2200)) is refused with a *schemas.InvalidError and changes
// nothing, so no rate in force can move beyond the range.
//
// An event applied with Apply counts as announced before every instant (AtAsOf sees it).
func (r *Rates) Apply(b schemas.Business) error {
	return r.apply(b, math.MinInt64)
}

// ApplyAnnounced is Apply for an event announced at announced (the businesses record's
// timestamp): AtAsOf(…, asOf) sees it only when announced ≤ asOf. A redelivered event_id
// keeps the earliest announcement (a redelivery is the same event, announced once).
func (r *Rates) ApplyAnnounced(b schemas.Business, announced time.Time) error {
	return r.apply(b, announced.UnixNano())
}

func (r *Rates) apply(b schemas.Business, announced int64) error {
	if err := r.bounds.CheckBusiness(b); err != nil {
		return err
	}
	rate := b.ReferralRate
	if rate.Exponent() < -r.bounds.RatePlaces {
		// More places than allowed, all zeros (the bound let it through): the same rate at
		// RatePlaces, so that what the ledger keeps and writes has a bounded scale (the
		// changelog codec refuses exponents below −32; the sink's rate columns hold 6 places).
		rate = rate.Truncate(r.bounds.RatePlaces)
	}
	e := rateAt{at: b.OccurredAt.UnixNano(), announced: announced, eventID: strings.Clone(b.EventID), rate: rate}
	r.mu.Lock()
	defer r.mu.Unlock()
	hist := r.m[b.BusinessID]
	for i := range hist {
		if hist[i].eventID == e.eventID {
			e.announced = min(e.announced, hist[i].announced)
			hist = slices.Delete(hist, i, i+1)
			break
		}
	}
	i, _ := slices.BinarySearchFunc(hist, e, rateAt.cmp)
	hist = slices.Insert(hist, i, e)
	if len(hist) == 1 {
		r.m[strings.Clone(b.BusinessID)] = hist
		return nil
	}
	r.m[b.BusinessID] = hist
	return nil
}

// At returns the rate of businessID in force at t: the latest event with occurred_at at or
// before t, on equal times the larger event_id. ok is false when there is none.
func (r *Rates) At(businessID string, t time.Time) (rate decimal.Decimal, ok bool) {
	return r.at(businessID, t.UnixNano(), math.MaxInt64)
}

// AtAsOf is At among the events announced at or before asOf (ApplyAnnounced).
func (r *Rates) AtAsOf(businessID string, t, asOf time.Time) (rate decimal.Decimal, ok bool) {
	return r.at(businessID, t.UnixNano(), asOf.UnixNano())
}

func (r *Rates) at(businessID string, t, asOf int64) (decimal.Decimal, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	hist := r.m[businessID]
	// First entry with at > t; the one before it is in force.
	i, _ := slices.BinarySearchFunc(hist, t, func(e rateAt, t int64) int {
		if e.at <= t {
			return -1
		}
		return 1
	})
	// The latest of them announced by asOf is in force.
	for i--; i >= 0; i-- {
		if hist[i].announced <= asOf {
			return hist[i].rate, true
		}
	}
	return decimal.Decimal{}, false
}

// Len returns the number of rate events held.
func (r *Rates) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, h := range r.m {
		n += len(h)
	}
	return n
}
