// Package simulate generates a realistic, deterministic Taskole marketplace: businesses in six
// sectors with referral rates and marketing spend, clients brought in by imports, invites, QR
// codes and first bookings, bookings with their whole lifecycle, refunds, cancellations,
// NPS/CSAT answers — plus the imperfections a real platform delivers: late and out-of-order
// events, re-delivered duplicates and a small, counted share of malformed records.
//
// The output is the INPUT side of the event contract (SPEC §4): records for the enrollments,
// bookings, businesses, feedback, acquisition-costs and retention-costs topics, keyed as the contract says.
// A Generator yields them one at a time (Next) and never holds more than one client-month in
// memory, so the "load" preset streams tens of millions of events in bounded memory. The same
// Config (seed included) always yields the same byte stream.
//
// Produce sends a Generator's records to Kafka with franz-go, optionally rate limited, with a
// progress bar on a terminal and plain progress lines otherwise.
package simulate

import (
	"cmp"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Config scales and shapes the simulated marketplace. The zero value of every field means its
// default; the defaults are the "demo" preset. Rates below zero turn a feature off.
type Config struct {
	// Seed makes the run reproducible; it also tags every id, so two seeds never share ids.
	Seed uint64
	// Businesses is the number of businesses (default 300).
	Businesses int
	// Clients is the number of clients joining during the simulated period (default 6000).
	Clients int
	// Months is the length of the simulated period in calendar months (default 12).
	Months int
	// Start is the first instant of the simulated period, truncated to its UTC month
	// (default 2025-01-01T00:00:00Z).
	Start time.Time

	// DuplicateRate is the share of valid events delivered twice (default 0.01).
	DuplicateRate float64
	// MalformedRate is the chance, per valid client event, that a malformed record follows
	// it (default 0.002).
	MalformedRate float64
	// LateEnrollmentRate is the share of enrollments delivered after the client's bookings,
	// in the next month's batch (default 0.08).
	LateEnrollmentRate float64
	// RejectedClaimRate is the share of clients that a second business later tries to enroll
	// (a claim that must be rejected under R1; default 0.04).
	RejectedClaimRate float64
}

// Default values of Config.
const (
	DefaultSeed               = 1
	DefaultBusinesses         = 300
	DefaultClients            = 6000
	DefaultMonths             = 12
	DefaultDuplicateRate      = 0.01
	DefaultMalformedRate      = 0.002
	DefaultLateEnrollmentRate = 0.08
	DefaultRejectedClaimRate  = 0.04
)

// DefaultStart is the default first instant of the simulated period.
var DefaultStart = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

var presets = map[string]Config{
	// About 130k events: a one-minute end-to-end demo.
	"demo": {Businesses: 300, Clients: 6000, Months: 12},
	// 2000 clients, about 50k events: integration tests.
	"small": {Businesses: 60, Clients: 2000, Months: 12},
	// About 27 million events, streamed in bounded memory: load tests.
	"load": {Businesses: 20000, Clients: 1_500_000, Months: 12},
}

// Presets returns the names of the built-in presets, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named built-in Config ("demo", "small" or "load").
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q (one of %v)", name, Presets())
	}
	return c, nil
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	c.Seed = cmp.Or(c.Seed, DefaultSeed)
	c.Businesses = cmp.Or(c.Businesses, DefaultBusinesses)
	c.Clients = cmp.Or(c.Clients, DefaultClients)
	c.Months = cmp.Or(c.Months, DefaultMonths)
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = time.Date(c.Start.UTC().Year(), c.Start.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	rate := func(v *float64, d float64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	rate(&c.DuplicateRate, DefaultDuplicateRate)
	rate(&c.MalformedRate, DefaultMalformedRate)
	rate(&c.LateEnrollmentRate, DefaultLateEnrollmentRate)
	rate(&c.RejectedClaimRate, DefaultRejectedClaimRate)

	var errs []error
	if c.Businesses < 2 {
		errs = append(errs, fmt.Errorf("businesses: %d, need at least 2", c.Businesses))
	}
	if c.Businesses > 9_999_999 {
		errs = append(errs, fmt.Errorf("businesses: %d, at most 9999999", c.Businesses))
	}
	if c.Clients < 1 || c.Clients > 999_999_999 {
		errs = append(errs, fmt.Errorf("clients: %d, need 1..999999999", c.Clients))
	}
	if c.Months < 1 || c.Months > 120 {
		errs = append(errs, fmt.Errorf("months: %d, need 1..120", c.Months))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"duplicate rate", c.DuplicateRate}, {"malformed rate", c.MalformedRate},
		{"late enrollment rate", c.LateEnrollmentRate}, {"rejected claim rate", c.RejectedClaimRate},
	} {
		if r.v > 1 {
			errs = append(errs, fmt.Errorf("%s: %v, need at most 1", r.name, r.v))
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("validating simulation config: %w", errors.Join(errs...))
	}
	return c, nil
}
