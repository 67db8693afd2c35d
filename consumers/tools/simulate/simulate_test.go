package simulate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/taskole/revshare/schemas"
)

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// generate makes the generator of cfg, calls f with each of its events in turn and returns
// it (for its Stats).
func generate(t tb, cfg Config, f func(Event)) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		f(e)
	}
	return g
}

// digest hashes the whole record stream of cfg.
func digest(t tb, cfg Config) (string, Stats) {
	t.Helper()
	h := sha256.New()
	g := generate(t, cfg, func(e Event) {
		h.Write([]byte(e.Topic))
		h.Write([]byte{0})
		h.Write(e.Key)
		h.Write([]byte{0})
		h.Write(e.Value)
		h.Write([]byte{0, byte(len(e.Malformed))})
	})
	return hex.EncodeToString(h.Sum(nil)), g.Stats()
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Businesses: 40, Clients: 600}
	a, sa := digest(t, cfg)
	b, sb := digest(t, cfg)
	if a != b {
		t.Fatalf("same seed, different streams: %s vs %s", a, b)
	}
	if sa.Records != sb.Records || sa.Records == 0 {
		t.Fatalf("records %d vs %d", sa.Records, sb.Records)
	}
	cfg.Seed = 8
	if c, _ := digest(t, cfg); c == a {
		t.Fatal("different seeds gave the same stream")
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value is the demo default", Config{}, true},
		{"one business", Config{Businesses: 1}, false},
		{"negative clients", Config{Clients: -1}, false},
		{"too many months", Config{Months: 121}, false},
		{"rate above one", Config{DuplicateRate: 1.5}, false},
		{"negative rate disables", Config{MalformedRate: -1}, true},
		{"one client one month", Config{Clients: 1, Months: 1, Businesses: 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%+v) error = %v, want ok=%v", tt.cfg, err, tt.ok)
			}
		})
	}
	generate(t, Config{MalformedRate: -1, DuplicateRate: -1, Clients: 300, Businesses: 20}, func(e Event) {
		if e.Malformed != "" || e.Duplicate {
			t.Fatalf("disabled defects still produced: %+v", e)
		}
	})
}

func TestPresets(t *testing.T) {
	for _, name := range Presets() {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.withDefaults(); err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "huge") {
		t.Fatalf("unknown preset error = %v", err)
	}
}

// check holds what a full pass over a stream observed.
type check struct {
	stats                     Stats
	malformed                 map[MalformedKind]int64
	dups                      int64
	records                   int64
	completed, instant        int64
	lateEnrollments, rejected int64
	currencies, sectors       map[string]bool
	rateChanges               int64
	retention                 map[schemas.RetentionKind]int64 // valid retention costs per kind
	retentionAttributed       int64
}

// verify reads a whole stream and fails t on any contract violation of a valid event.
func verify(t tb, cfg Config) check {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	end := g.Config().Start.AddDate(0, g.Config().Months, 0)
	c := check{malformed: map[MalformedKind]int64{}, currencies: map[string]bool{}, sectors: map[string]bool{},
		retention: map[schemas.RetentionKind]int64{}}
	type bookingState struct {
		last     schemas.Status
		amount   decimal.Decimal
		refunded decimal.Decimal
		currency string
	}
	bookings := map[string]*bookingState{}
	seen := map[string]bool{}
	completedSeen := map[string]bool{} // clients with a completed booking delivered
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		c.records++
		if e.Duplicate {
			c.dups++
			if !seen[string(e.Topic)+string(e.Value)] {
				t.Fatalf("duplicate of an event never delivered: %s", e.Value)
			}
			continue
		}
		if e.Malformed != "" {
			c.malformed[e.Malformed]++
			if _, err := decode(e.Topic, e.Value); (err == nil) == !e.Malformed.Stateful() {
				t.Fatalf("%s record on %s: decode error %v: %s", e.Malformed, e.Topic, err, e.Value)
			}
			continue
		}
		seen[string(e.Topic)+string(e.Value)] = true
		v, err := decode(e.Topic, e.Value)
		if err != nil {
			t.Fatalf("valid record on %s does not decode: %v: %s", e.Topic, err, e.Value)
		}
		switch v := v.(type) {
		case schemas.Enrollment:
			if string(e.Key) != v.ClientID {
				t.Fatalf("enrollment key %q, client %q", e.Key, v.ClientID)
			}
			if strings.HasSuffix(v.EventID, "-1") {
				c.rejected++
			}
			if completedSeen[v.ClientID] && strings.HasSuffix(v.EventID, "-0") {
				c.lateEnrollments++
			}
		case schemas.Booking:
			if string(e.Key) != v.ClientID {
				t.Fatalf("booking key %q, client %q", e.Key, v.ClientID)
			}
			st := bookings[v.BookingID]
			if st == nil {
				st = &bookingState{}
				bookings[v.BookingID] = st
			}
			if !allowed(st.last, v.Status) {
				t.Fatalf("booking %s: %v after %v", v.BookingID, v.Status, st.last)
			}
			prev := st.last
			st.last = v.Status
			switch v.Status {
			case schemas.StatusCompleted:
				if !v.OccurredAt.Before(end) {
					t.Fatalf("booking %s completed at %s, after the simulated period", v.BookingID, v.OccurredAt)
				}
				exp, ok := schemas.MinorUnit(v.Currency)
				if !ok || v.Amount.Exponent() != -exp || !v.Amount.IsPositive() {
					t.Fatalf("completed booking %s: amount %s %s", v.BookingID, v.Amount, v.Currency)
				}
				if prev == schemas.StatusCreated {
					c.instant++
				}
				st.amount, st.currency = v.Amount, v.Currency
				c.completed++
				c.currencies[v.Currency] = true
				completedSeen[v.ClientID] = true
			case schemas.StatusRefunded:
				st.refunded = st.refunded.Add(v.RefundAmount)
				if st.refunded.GreaterThan(st.amount) || v.Currency != st.currency || !v.RefundAmount.IsPositive() {
					t.Fatalf("refund of %s: %s of %s %s", v.BookingID, st.refunded, st.amount, v.Currency)
				}
			}
		case schemas.Business:
			if string(e.Key) != v.BusinessID {
				t.Fatalf("business key %q, id %q", e.Key, v.BusinessID)
			}
			c.sectors[v.Sector] = true
			if strings.HasSuffix(v.EventID, "-1") {
				c.rateChanges++
				if v.OccurredAt.Day() != 1 || v.OccurredAt.Hour() != 0 {
					t.Fatalf("rate change not at a month start: %s", v.OccurredAt)
				}
			}
			if v.ReferralRate.LessThan(decimal.RequireFromString("0.02")) || v.ReferralRate.GreaterThan(decimal.RequireFromString("0.12")) {
				t.Fatalf("referral rate %s out of range", v.ReferralRate)
			}
		case schemas.Feedback:
			if string(e.Key) != v.ClientID {
				t.Fatalf("feedback key %q, client %q", e.Key, v.ClientID)
			}
		case schemas.AcquisitionCost:
			if string(e.Key) != v.BusinessID || !v.Amount.IsPositive() {
				t.Fatalf("acquisition cost key %q id %q amount %s", e.Key, v.BusinessID, v.Amount)
			}
		case schemas.RetentionCost:
			exp, _ := schemas.MinorUnit(v.Currency)
			if string(e.Key) != v.BusinessID || !v.Amount.IsPositive() || v.Amount.Exponent() != -exp || !v.OccurredAt.Before(end) {
				t.Fatalf("retention cost key %q id %q amount %s %s at %s", e.Key, v.BusinessID, v.Amount, v.Currency, v.OccurredAt)
			}
			c.retention[v.Kind]++
			if v.ClientID != "" {
				c.retentionAttributed++
			}
		}
	}
	c.stats = g.Stats()
	return c
}

// allowed is the booking lifecycle of SPEC §2 (prev 0: the booking's first event).
func allowed(prev, next schemas.Status) bool {
	switch prev {
	case schemas.StatusUnknown:
		return next != schemas.StatusRefunded && next != schemas.StatusUnknown
	case schemas.StatusCreated:
		return next == schemas.StatusConfirmed || next == schemas.StatusCompleted || next == schemas.StatusCancelled
	case schemas.StatusConfirmed:
		return next == schemas.StatusCompleted || next == schemas.StatusCancelled
	case schemas.StatusCompleted:
		return next == schemas.StatusRefunded || next == schemas.StatusCancelled
	case schemas.StatusRefunded:
		return next == schemas.StatusRefunded
	}
	return false
}

// decoders decode a value of each topic the generator writes.
var decoders = map[schemas.Topic]func([]byte) (any, error){
	schemas.TopicEnrollments:      decodeAny(schemas.DecodeEnrollment),
	schemas.TopicBookings:         decodeAny(schemas.DecodeBooking),
	schemas.TopicBusinesses:       decodeAny(schemas.DecodeBusiness),
	schemas.TopicFeedback:         decodeAny(schemas.DecodeFeedback),
	schemas.TopicAcquisitionCosts: decodeAny(schemas.DecodeAcquisitionCost),
	schemas.TopicRetentionCosts:   decodeAny(schemas.DecodeRetentionCost),
}

// decodeAny is dec with its event returned as any.
func decodeAny[E any](dec func([]byte) (E, error)) func([]byte) (any, error) {
	return func(b []byte) (any, error) { return dec(b) }
}

func decode(topic schemas.Topic, b []byte) (any, error) {
	dec, ok := decoders[topic]
	if !ok {
		panic("unknown topic " + topic)
	}
	return dec(b)
}

func TestSmallPresetIsRealistic(t *testing.T) {
	cfg, _ := Preset("small")
	c := verify(t, cfg)
	s := c.stats
	if s.Records != c.records || s.Duplicates != c.dups {
		t.Errorf("stats records %d dups %d, observed %d and %d", s.Records, s.Duplicates, c.records, c.dups)
	}
	var sum int64
	for _, n := range s.ByTopic {
		sum += n
	}
	if sum != s.Records {
		t.Errorf("records per topic sum to %d, total %d", sum, s.Records)
	}
	for _, k := range MalformedKinds {
		if s.Malformed[k] != c.malformed[k] {
			t.Errorf("malformed %s: stats %d, observed %d", k, s.Malformed[k], c.malformed[k])
		}
	}
	if s.MalformedTotal() == 0 || s.Malformed[BadJSON] == 0 || s.Malformed[MissingField] == 0 {
		t.Errorf("too few malformed records: %v", s.Malformed)
	}
	if got := s.DeadLetters(true, inputTopics[:]...); got != s.MalformedTotal() {
		t.Errorf("dead letters over all topics %d, malformed %d", got, s.MalformedTotal())
	}
	if c.completed != s.Completed {
		t.Errorf("completed: stats %d, observed %d", s.Completed, c.completed)
	}
	if c.instant != s.Instant {
		t.Errorf("created → completed: stats %d, observed %d", s.Instant, c.instant)
	}
	if share := float64(c.instant) / float64(s.Bookings); share < 0.4 || share > 0.6 {
		t.Errorf("created → completed share of bookings %.2f (%d of %d), want about half", share, c.instant, s.Bookings)
	}
	share := float64(s.CrossBusiness) / float64(s.Completed)
	if share < 0.1 || share > 0.5 {
		t.Errorf("cross-business share of completed bookings %.2f, want 0.1..0.5", share)
	}
	if c.dups == 0 || c.lateEnrollments == 0 || c.rejected == 0 || c.rateChanges == 0 {
		t.Errorf("defects missing: dups %d late enrollments %d rejected claims %d rate changes %d",
			c.dups, c.lateEnrollments, c.rejected, c.rateChanges)
	}
	if c.rejected != s.RejectedClaims {
		t.Errorf("rejected claims: stats %d, observed %d", s.RejectedClaims, c.rejected)
	}
	for _, cur := range []string{"EUR", "JPY", "BHD"} {
		if !c.currencies[cur] {
			t.Errorf("no completed booking in %s", cur)
		}
	}
	if len(c.sectors) != nSectors {
		t.Errorf("sectors %v, want all six", c.sectors)
	}
	if s.Clients != int64(cfg.Clients) {
		t.Errorf("clients joined %d, want %d", s.Clients, cfg.Clients)
	}
	// Retention spend: every kind, some naming a client and some not, loyalty discounts the
	// commonest; the stats agree with what was seen.
	var retention int64
	for _, n := range c.retention {
		retention += n
	}
	if retention != s.RetentionCosts || c.retentionAttributed != s.RetentionAttributed {
		t.Errorf("retention costs: stats %d (%d naming a client), observed %d (%d)", s.RetentionCosts, s.RetentionAttributed, retention, c.retentionAttributed)
	}
	for _, k := range []schemas.RetentionKind{schemas.RetentionLoyaltyDiscount, schemas.RetentionFreeService, schemas.RetentionGuarantee, schemas.RetentionOther} {
		if c.retention[k] == 0 {
			t.Errorf("no retention cost of kind %s (%v)", k, c.retention)
		}
	}
	if c.retentionAttributed == 0 || c.retentionAttributed == retention {
		t.Errorf("retention costs naming a client: %d of %d, want some but not all", c.retentionAttributed, retention)
	}
	if c.retention[schemas.RetentionLoyaltyDiscount] <= c.retention[schemas.RetentionFreeService] {
		t.Errorf("loyalty discounts %d not commoner than free services %d", c.retention[schemas.RetentionLoyaltyDiscount], c.retention[schemas.RetentionFreeService])
	}
	if s.MalformedByTopic[schemas.TopicRetentionCosts][BadJSON]+s.MalformedByTopic[schemas.TopicRetentionCosts][MissingField] == 0 {
		t.Errorf("no malformed retention-cost record")
	}
}

// TestAnyConfigIsValid: whatever the scale, every valid record honours the contract and the
// lifecycle, and the stream is reproducible.
func TestAnyConfigIsValid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			Seed:          rapid.Uint64().Draw(rt, "seed"),
			Businesses:    rapid.IntRange(2, 30).Draw(rt, "businesses"),
			Clients:       rapid.IntRange(1, 60).Draw(rt, "clients"),
			Months:        rapid.IntRange(1, 15).Draw(rt, "months"),
			Start:         time.Date(2020+rapid.IntRange(0, 8).Draw(rt, "year"), time.Month(rapid.IntRange(1, 12).Draw(rt, "month")), 1, 0, 0, 0, 0, time.UTC),
			MalformedRate: rapid.Float64Range(0, 0.2).Draw(rt, "malformed"),
			DuplicateRate: rapid.Float64Range(0, 0.2).Draw(rt, "dups"),
		}
		c := verify(rt, cfg)
		if c.stats.Clients != int64(cfg.Clients) {
			rt.Fatalf("clients joined %d, want %d", c.stats.Clients, cfg.Clients)
		}
		a, _ := digest(rt, cfg)
		b, _ := digest(rt, cfg)
		if a != b {
			rt.Fatal("not deterministic")
		}
	})
}

func TestMalformedRecordsCarryOneDefect(t *testing.T) {
	ids := map[string]bool{}
	generate(t, Config{Seed: 3, Businesses: 30, Clients: 400, MalformedRate: 0.2}, func(e Event) {
		if e.Malformed == "" || e.Malformed == BadJSON {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(e.Value, &m); err != nil {
			t.Fatalf("%s record is not JSON: %s", e.Malformed, e.Value)
		}
		id, _ := m["event_id"].(string)
		if id == "" && e.Malformed != MissingField {
			t.Fatalf("%s record without event_id: %s", e.Malformed, e.Value)
		}
		if id != "" && ids[id] {
			t.Fatalf("malformed records share event_id %s", id)
		}
		ids[id] = true
	})
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		frac    float64
		acked   int64
		elapsed time.Duration
		bar     bool
		final   bool
		want    string
	}{
		{0.5, 1000, 10 * time.Second, false, false, "simulate:  50.0% 1000 events acked, 100 events/s, elapsed 10s, eta 10s"},
		{0, 0, time.Second, false, false, "eta ?"},
		{1, 500, 5 * time.Second, true, true, "[##############################] 100.0%"},
		{0.25, 10, 2 * time.Second, true, false, "[#######-----------------------]  25.0%"},
		{2, 10, time.Second, true, true, "100.0%"},
	}
	for _, tt := range tests {
		got := progressLine(tt.frac, tt.acked, tt.elapsed, tt.bar, tt.final)
		if !strings.Contains(got, tt.want) {
			t.Errorf("progressLine(%v, %d, %v, %v, %v) = %q, want it to contain %q",
				tt.frac, tt.acked, tt.elapsed, tt.bar, tt.final, got, tt.want)
		}
	}
}

// BenchmarkGenerate measures generation alone (encoding included, no Kafka).
func BenchmarkGenerate(b *testing.B) {
	var n, bytes int64
	for b.Loop() {
		generate(b, Config{Seed: 1, Businesses: 300, Clients: 2000}, func(e Event) {
			n++
			bytes += int64(len(e.Value))
		})
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.SetBytes(bytes / int64(b.N))
}

func TestProgressIsMonotonic(t *testing.T) {
	g, err := New(Config{Clients: 300, Businesses: 20, Months: 5})
	if err != nil {
		t.Fatal(err)
	}
	last := 0.0
	for {
		p := g.Progress()
		if p < last || p > 1 {
			t.Fatalf("progress went from %v to %v", last, p)
		}
		last = p
		if _, ok := g.Next(); !ok {
			break
		}
	}
	if g.Progress() != 1 {
		t.Fatalf("final progress %v", g.Progress())
	}
}
