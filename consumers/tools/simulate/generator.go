package simulate

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Event is one record to produce: the logical topic (a default contract name; Produce maps it
// to the configured name), the key and the JSON value.
type Event struct {
	Topic schemas.Topic
	Key   []byte
	Value []byte
	// Malformed is empty for a valid event, else the kind of defect the record carries.
	Malformed MalformedKind
	// Duplicate is true for a re-delivery of an event already yielded (same bytes).
	Duplicate bool
}

// Acquisition channels of a client.
const (
	chanImport = iota
	chanInvite
	chanQR
	chanBooking
)

var channelSource = [...]string{chanImport: "import", chanInvite: "invite", chanQR: "qr"}

// client is a client's lifelong profile, derived from the seed and the client's index alone,
// so any month can be generated without remembering earlier ones.
type client struct {
	owner     int
	channel   int
	join      time.Time
	joinMonth int
	lastMonth int // last month with bookings (churn after it)
	visits    float64
	homeShare float64
	favs      [3]int
	late      bool // enrollment delivered in the next month's batch
	claimer   int  // business making a rejected claim, or -1
	claimAt   time.Time
	feedback  float64
}

// Generator yields the events of a simulated marketplace in a deterministic order: month by
// month, first the businesses' profiles, rate announcements and marketing spend, then every
// active client's events of the month. Not safe for concurrent use.
type Generator struct {
	cfg      Config
	tag      string
	cwidth   int
	end      time.Time
	biz      []business
	owners   picker
	bySector [nSectors]picker
	affinity [nSectors]picker // sector of a client's owner → sectors it books elsewhere
	// spans holds, per client, the months in which it has events, so inactive clients are
	// skipped without deriving their profile: 4 bytes per client.
	spans []span
	work  []float64 // work[m]: active client-months (plus one header each) before month m

	month, next int // cursor: month and next client index; next == -1 before the month's header
	done        bool
	buf         []Event
	pos         int
	bytes       []byte // arena for the current batch's values

	pcg      rand.PCG
	r        *rand.Rand
	stats    counters
	seq      int // per-batch sequence for ids of extra records
	curOwner int // owner of the client whose batch is being generated

	// retention spend (retention.go): its own random stream, the batch's completed bookings
	rpcg        rand.PCG
	rr          *rand.Rand
	completedBk []doneBooking
}

// New returns a Generator for cfg (zero fields take their defaults).
func New(cfg Config) (*Generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, tag: strconv.FormatUint(cfg.Seed, 36), next: -1}
	g.cwidth = len(strconv.Itoa(cfg.Clients - 1))
	g.end = cfg.Start.AddDate(0, cfg.Months, 0)
	g.biz, g.owners, g.bySector = buildBusinesses(cfg, g.tag)
	g.r = rand.New(&g.pcg)
	g.rr = rand.New(&g.rpcg)
	for s := range sectors {
		for t, w := range sectors[s].affinity {
			g.affinity[s].add(t, w)
		}
	}
	g.spans = make([]span, cfg.Clients)
	for i := range g.spans {
		c := g.profile(i)
		sp := span{join: uint8(c.joinMonth), last: uint8(c.lastMonth), late: noMonth, claim: noMonth}
		if c.late {
			sp.late = uint8(min(c.joinMonth+1, cfg.Months-1))
		}
		if c.claimer >= 0 {
			sp.claim = uint8(monthIndex(cfg.Start, c.claimAt))
		}
		g.spans[i] = sp
	}
	g.work = make([]float64, cfg.Months+1)
	active := make([]float64, cfg.Months)
	for _, sp := range g.spans {
		for m := int(sp.join); m <= int(sp.last); m++ {
			active[m]++
		}
	}
	for m := range cfg.Months {
		g.work[m+1] = g.work[m] + active[m] + 1
	}
	return g, nil
}

// span is the months of a client's events: join..last, plus a late enrollment and a claim.
type span struct{ join, last, late, claim uint8 }

const noMonth = 255

func (s span) has(m int) bool {
	mm := uint8(m)
	return (mm >= s.join && mm <= s.last) || mm == s.late || mm == s.claim
}

// Config returns the effective configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// Next returns the next event, or false when the simulation is over.
func (g *Generator) Next() (Event, bool) {
	for g.pos >= len(g.buf) {
		if g.done {
			return Event{}, false
		}
		g.refill()
	}
	e := g.buf[g.pos]
	g.buf[g.pos] = Event{}
	g.pos++
	g.stats.count(e)
	return e, true
}

// Progress is the share of the simulation generated so far, in [0, 1].
func (g *Generator) Progress() float64 {
	if g.done || g.month >= g.cfg.Months {
		return 1
	}
	// Work is counted in active client-months (later months hold more clients).
	done := g.work[g.month] + (g.work[g.month+1]-g.work[g.month])*float64(g.next+1)/float64(g.cfg.Clients+1)
	return min(done/g.work[g.cfg.Months], 1)
}

// Stats returns the counts of everything yielded so far.
func (g *Generator) Stats() Stats { return g.stats.snapshot() }

// refill generates the next batch: a month's header or one client-month.
func (g *Generator) refill() {
	g.buf = g.buf[:0]
	g.pos = 0
	g.bytes = make([]byte, 0, 4096)
	g.seq = 0
	if g.month >= g.cfg.Months {
		g.done = true
		return
	}
	if g.next < 0 {
		g.header(g.month)
		g.next = 0
		return
	}
	for g.next < g.cfg.Clients && len(g.buf) == 0 {
		g.clientMonth(g.next, g.month)
		g.next++
	}
	if g.next >= g.cfg.Clients {
		g.month++
		g.next = -1
	}
}

func (g *Generator) seed(kind, a, b uint64) {
	g.pcg.Seed(g.cfg.Seed^(kind*0x9e3779b97f4a7c15), mix(a<<20^b))
}

func mix(x uint64) uint64 { // splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (g *Generator) monthStart(m int) time.Time { return g.cfg.Start.AddDate(0, m, 0) }

// header emits month m's business events: profiles of businesses onboarding in m, rate
// changes taking effect in m+1 (announced a few days ahead) and the month's marketing spend.
func (g *Generator) header(m int) {
	g.seed(1, uint64(m), 0)
	r := g.r
	ms, me := g.monthStart(m), g.monthStart(m+1)
	for i := range g.biz {
		b := &g.biz[i]
		if b.month == m {
			g.emitBusiness(b, b.rate, b.onboard, 0)
		}
		if b.newRate != 0 && b.changeAt == m+1 {
			g.emitBusiness(b, b.newRate, me, 1)
		}
	}
	for i := range g.biz {
		b := &g.biz[i]
		if b.spend == 0 || b.onboard.After(me) {
			continue
		}
		n := 1 + r.IntN(2)
		for k := range n {
			at := ms.Add(time.Duration(r.Float64() * 27 * 24 * float64(time.Hour))).Truncate(time.Second)
			if at.Before(b.onboard) {
				at = b.onboard
			}
			amt := roundTo(int64(float64(b.spend)/float64(n)*(0.6+0.8*r.Float64())), b.cur.step)
			amt = max(amt, b.cur.step)
			g.emit(schemas.TopicAcquisitionCosts, b.id, schemas.AcquisitionCost{
				EventID:    "ac" + g.tag + "-" + b.id[1:] + "-" + strconv.Itoa(m) + "-" + strconv.Itoa(k),
				BusinessID: b.id,
				Amount:     decimal.New(amt, -b.cur.exp),
				Currency:   b.cur.code,
				Channel:    adChannel[r.IntN(len(adChannel))],
				OccurredAt: at,
			})
		}
	}
	g.finishBatch()
	g.retentionHeader(m)
}

func (g *Generator) emitBusiness(b *business, rate int64, at time.Time, n int) {
	if n == 1 {
		g.stats.rateChanges++
	}
	g.emit(schemas.TopicBusinesses, b.id, schemas.Business{
		EventID:      "bz" + g.tag + "-" + b.id[1:] + "-" + strconv.Itoa(n),
		BusinessID:   b.id,
		Name:         b.name,
		Sector:       sectors[b.sector].name,
		ReferralRate: decimal.New(rate, -3),
		OccurredAt:   at,
	})
}

// profile derives client i's lifelong profile.
func (g *Generator) profile(i int) client {
	g.seed(2, uint64(i), 0)
	r := g.r
	c := client{claimer: -1}
	c.owner = g.owners.pick(r)
	ob := &g.biz[c.owner]
	sec := &sectors[ob.sector]
	c.channel, c.join = g.joining(ob)
	c.joinMonth = monthIndex(g.cfg.Start, c.join)

	hazard := sec.hazard * (0.5 + r.Float64())
	c.visits = sec.visits * math.Exp(0.45*r.NormFloat64())
	if c.channel == chanImport {
		hazard *= 0.6
		c.visits *= 1.3
	}
	life := 0
	if r.Float64() >= 0.15 { // 15% never come back after their first month
		life = int(math.Log(1-r.Float64()) / math.Log(1-hazard))
	}
	c.lastMonth = min(c.joinMonth+life, g.cfg.Months-1)
	c.homeShare = 0.5 + 0.45*r.Float64()
	for k := range c.favs {
		c.favs[k] = g.bySector[g.affinity[ob.sector].pick(r)].pick(r)
		if c.favs[k] < 0 {
			c.favs[k] = g.owners.pick(r)
		}
	}
	c.feedback = sec.feedbackPropensity * (0.5 + r.Float64())
	c.late = c.channel != chanBooking && r.Float64() < g.cfg.LateEnrollmentRate
	if r.Float64() < g.cfg.RejectedClaimRate {
		cl := g.owners.pick(r)
		at := c.join.Add(time.Duration((1 + 89*r.Float64()) * 24 * float64(time.Hour))).Truncate(time.Second)
		if ob2 := g.biz[cl].onboard; at.Before(ob2) {
			at = ob2.Add(time.Hour)
		}
		if cl != c.owner && at.Before(g.end) {
			c.claimer, c.claimAt = cl, at
		}
	}
	return c
}

// joining draws how and when a client of owner ob joins: imported when ob joins, else
// invited, by QR code or by a first booking, some time until the end of the period.
func (g *Generator) joining(ob *business) (channel int, join time.Time) {
	r := g.r
	var c client
	lo := ob.onboard
	if lo.Before(g.cfg.Start) {
		lo = g.cfg.Start
	}
	u := r.Float64()
	switch {
	case ob.month > 0 && u < 0.4, ob.month == 0 && u < 0.25:
		c.channel = chanImport // a business imports its regulars when it joins
		c.join = lo.Add(time.Duration(r.Float64() * 3 * 24 * float64(time.Hour)))
		if ob.month == 0 {
			c.join = lo.Add(time.Duration(r.Float64() * 30 * 24 * float64(time.Hour)))
		}
	default:
		switch v := r.Float64(); {
		case v < 0.35:
			c.channel = chanInvite
		case v < 0.55:
			c.channel = chanQR
		default:
			c.channel = chanBooking
		}
		c.join = lo.Add(time.Duration(math.Pow(r.Float64(), 0.9) * float64(g.end.Sub(lo))))
	}
	c.join = c.join.Truncate(time.Second)
	if !c.join.Before(g.end) {
		c.join = g.end.Add(-time.Hour)
	}
	return c.channel, c.join
}

func (g *Generator) clientID(i int) string { return "c" + g.tag + "-" + pad(i, g.cwidth) }

// bookingPlan is one booking to generate in a client-month.
type bookingPlan struct {
	at    time.Time // appointment start
	first bool      // the establishing first booking of a booking-channel client
}

// clientMonth emits client i's events of month m.
func (g *Generator) clientMonth(i, m int) {
	if !g.spans[i].has(m) {
		return
	}
	c := g.profile(i)
	g.curOwner = c.owner
	enrollLate := c.late && (m == c.joinMonth+1 || (m == c.joinMonth && c.joinMonth == g.cfg.Months-1))
	claimNow := c.claimer >= 0 && monthIndex(g.cfg.Start, c.claimAt) == m
	if (m < c.joinMonth || m > c.lastMonth) && !enrollLate && !claimNow {
		return
	}
	g.seed(3, uint64(i), uint64(m))
	g.completedBk = g.completedBk[:0]
	id := g.clientID(i)
	key := []byte(id)
	ms, me := g.monthStart(m), g.monthStart(m+1)
	if me.After(g.end) {
		me = g.end
	}
	enrollment := schemas.Enrollment{
		EventID: "en" + g.tag + "-" + id[1:] + "-0", ClientID: id, BusinessID: g.biz[c.owner].id,
		OccurredAt: c.join,
	}
	if c.channel != chanBooking {
		enrollment.Source = channelSource[c.channel]
	}
	if enrollLate && m == c.joinMonth+1 {
		g.stats.lateEnrollments++
		g.emitClient(schemas.TopicEnrollments, key, enrollment)
	}
	if m == c.joinMonth {
		g.stats.clients++
		if c.channel != chanBooking && !c.late {
			g.emitClient(schemas.TopicEnrollments, key, enrollment)
		}
	}
	var late []int // buffer positions of bookings delivered at the end of the batch
	if m >= c.joinMonth && m <= c.lastMonth {
		late = g.monthBookings(&c, id, key, m, ms, me)
	}
	if enrollLate && m == c.joinMonth && c.joinMonth == g.cfg.Months-1 {
		g.stats.lateEnrollments++
		g.emitClient(schemas.TopicEnrollments, key, enrollment)
	}
	if claimNow {
		g.rejectedClaim(&c, id, key)
	}
	if len(late) > 0 {
		g.deliverLate(late)
	}
	g.finishBatch()
	g.retentionClient(i, id, m)
}

// rejectedClaim emits the enrollment by which client c's claimer tries to take it over (the
// ledger refuses it: c already has an owner).
func (g *Generator) rejectedClaim(c *client, id string, key []byte) {
	g.stats.rejectedClaims++
	src := "qr"
	if g.r.IntN(2) == 0 {
		src = "invite"
	}
	g.emitClient(schemas.TopicEnrollments, key, schemas.Enrollment{
		EventID: "en" + g.tag + "-" + id[1:] + "-1", ClientID: id, BusinessID: g.biz[c.claimer].id,
		Source: src, OccurredAt: c.claimAt,
	})
}

// monthBookings emits client c's bookings of month m (from ms to me) and returns the buffer
// positions (start, end pairs) of those to be delivered late, at the end of the batch.
func (g *Generator) monthBookings(c *client, id string, key []byte, m int, ms, me time.Time) []int {
	r := g.r
	var late []int
	from := ms
	if c.join.After(from) {
		from = c.join
	}
	sec := &sectors[g.biz[c.owner].sector]
	frac := float64(me.Sub(from)) / float64(me.Sub(ms))
	lambda := c.visits * sec.season[int(ms.Month())-1] * frac
	n := poisson(r, lambda)
	plans := make([]bookingPlan, 0, n+1)
	if m == c.joinMonth && c.channel == chanBooking {
		plans = append(plans, bookingPlan{at: c.join, first: true})
	}
	// Visits of the last month end before the period does, so every purchase falls
	// inside it (earlier months may spill a visit's end into the next month).
	until := me
	if m == g.cfg.Months-1 {
		until = me.Add(-3 * time.Hour)
	}
	for range n {
		at := from.Add(time.Duration(r.Float64() * float64(until.Sub(from)))).Truncate(time.Minute)
		if !at.After(c.join) {
			at = c.join.Add(time.Minute)
		}
		if !at.Before(until) {
			continue
		}
		plans = append(plans, bookingPlan{at: at})
	}
	slices.SortStableFunc(plans, func(a, b bookingPlan) int { return a.at.Compare(b.at) })
	for k, p := range plans {
		start := len(g.buf)
		g.booking(c, id, key, m, k, p)
		if r.Float64() < 0.01 && len(g.buf) > start {
			late = append(late, start, len(g.buf))
		}
	}
	return late
}

// deliverLate moves the late-delivered bookings (start, end pairs of buffer positions) to
// the end of the buffer, keeping their own order.
func (g *Generator) deliverLate(late []int) {
	var moved, kept []Event
	prev := 0
	for k := 0; k < len(late); k += 2 {
		kept = append(kept, g.buf[prev:late[k]]...)
		moved = append(moved, g.buf[late[k]:late[k+1]]...)
		prev = late[k+1]
	}
	kept = append(kept, g.buf[prev:]...)
	g.buf = append(append(g.buf[:0], kept...), moved...)
	g.stats.lateBookings += int64(len(late) / 2)
}

// booking emits one booking's lifecycle (and maybe a feedback answer) for client c. The
// steps draw from the generator's random source in a fixed order: provider, price, times,
// entry point and outcome, what follows completion, feedback.
func (g *Generator) booking(c *client, id string, key []byte, m, k int, p bookingPlan) {
	prov := g.provider(c, p)
	b := &g.biz[prov]
	lc := lifecycle{g: g, key: key, plan: p}
	lc.price(b, id, m, k)
	g.stats.bookings++
	lc.schedule()
	completed, instant := lc.untilCompleted()
	if !completed {
		return
	}
	g.stats.completed++
	if instant {
		g.stats.instant++
	}
	if prov != c.owner {
		g.stats.cross++
	}
	cancelledAfter := !p.first && lc.afterCompletion(b)
	g.completedBk = append(g.completedBk, doneBooking{prov: prov, amount: lc.amount, at: lc.completed, first: p.first, cancelled: cancelledAfter})
	if !cancelledAfter && g.r.Float64() < c.feedback {
		g.feedback(id, key, b, lc)
	}
}

// provider picks the business client c books with: its owner for the first booking and
// its home share, else a favourite or any owner near home.
func (g *Generator) provider(c *client, p bookingPlan) int {
	r := g.r
	prov := c.owner
	if !p.first && r.Float64() >= c.homeShare {
		if r.Float64() < 0.85 {
			prov = c.favs[r.IntN(len(c.favs))]
		} else {
			prov = g.owners.pick(r)
		}
		// Clients book near home: never with a business not yet on the platform or one
		// that charges in another currency (another country).
		if g.biz[prov].onboard.After(p.at) || g.biz[prov].cur.code != g.biz[c.owner].cur.code {
			prov = c.owner
		}
	}
	return prov
}

// lifecycle is one booking being emitted: its record, amount (in minor units) and times.
type lifecycle struct {
	g    *Generator
	key  []byte
	plan bookingPlan
	bk   schemas.Booking
	// amount in the currency's minor units
	amount                        int64
	created, confirmed, completed time.Time
}

// price makes the booking's record at business b with a price around b's.
func (lc *lifecycle) price(b *business, id string, m, k int) {
	r := lc.g.r
	sec := &sectors[b.sector]
	amount := roundTo(int64(float64(b.price)*(0.7+0.8*r.Float64())), b.cur.step)
	amount = max(amount, b.cur.step)
	if b.cur.code == "EUR" && r.Float64() < 0.3 {
		amount -= 10 // 49.90-style prices
	}
	lc.amount = amount
	lc.bk = schemas.Booking{
		BookingID:  "bk" + lc.g.tag + "-" + id[1:] + "-" + strconv.Itoa(m) + "-" + strconv.Itoa(k),
		ClientID:   id,
		BusinessID: b.id,
		Amount:     decimal.New(amount, -b.cur.exp),
		Currency:   b.cur.code,
		Category:   sec.categories[r.IntN(len(sec.categories))],
	}
}

// schedule sets when the booking is created, confirmed and completed around the visit.
func (lc *lifecycle) schedule() {
	r, p := lc.g.r, lc.plan
	lead := time.Duration((1 + r.ExpFloat64()*72) * float64(time.Hour))
	lc.created = p.at.Add(-min(lead, 21*24*time.Hour)).Truncate(time.Second)
	lc.confirmed = lc.created.Add(time.Duration((0.1 + 5*r.Float64()) * float64(time.Hour))).Truncate(time.Second)
	if !lc.confirmed.Before(p.at) {
		lc.confirmed = p.at.Add(-time.Minute)
	}
	lc.completed = p.at.Add(time.Duration(30+r.IntN(90)) * time.Minute)
	if p.first {
		lc.completed = p.at // the first booking's completion is the client's join time
	}
}

// ev emits the booking's status st at at.
func (lc *lifecycle) ev(st schemas.Status, at time.Time) {
	e := lc.bk
	e.Status = st
	e.EventID = lc.bk.BookingID + "-" + statusWord[st]
	e.OccurredAt = at
	lc.g.emitClient(schemas.TopicBookings, lc.key, e)
}

// untilCompleted emits the booking's statuses from its entry point to its completion, or to
// its cancellation or no-show (completed false); instant says it skipped confirmed.
func (lc *lifecycle) untilCompleted() (completed, instant bool) {
	r, g, p := lc.g.r, lc.g, lc.plan
	// Entry point: most bookings are created online; some start confirmed (phone) or
	// completed (walk-in at the till).
	entry := schemas.StatusCreated
	if !p.first {
		switch u := r.Float64(); {
		case u < 0.08:
			entry = schemas.StatusConfirmed
		case u < 0.13:
			entry = schemas.StatusCompleted
		}
	}
	outcome := r.Float64()
	if p.first {
		outcome = 0.5
	}
	switch {
	case outcome < 0.07: // cancelled before the visit
		if entry == schemas.StatusCompleted {
			entry = schemas.StatusCreated
		}
		lc.ev(entry, lc.created)
		if entry == schemas.StatusCreated && r.IntN(2) == 0 {
			lc.ev(schemas.StatusConfirmed, lc.confirmed)
		}
		cancelAt := lc.created.Add(time.Duration(r.Float64() * float64(p.at.Sub(lc.created)))).Truncate(time.Second)
		lc.ev(schemas.StatusCancelled, cancelAt)
		g.stats.cancellations++
		return false, false
	case outcome < 0.10: // no-show or still open: never completed
		if entry == schemas.StatusCompleted {
			entry = schemas.StatusConfirmed
		}
		lc.ev(entry, lc.created)
		if entry == schemas.StatusCreated {
			lc.ev(schemas.StatusConfirmed, lc.confirmed)
		}
		return false, false
	}
	if entry == schemas.StatusCreated {
		lc.ev(schemas.StatusCreated, lc.created)
	}
	// Instant bookings skip confirmed (SPEC: any step may be skipped): about half of all
	// bookings go created → completed.
	instant = entry == schemas.StatusCreated && r.Float64() < instantShare
	if entry != schemas.StatusCompleted && !instant {
		lc.ev(schemas.StatusConfirmed, lc.confirmed)
	}
	lc.ev(schemas.StatusCompleted, lc.completed)
	return true, instant
}

// afterCompletion maybe cancels the completed booking (a full refund; it reports true) or
// refunds part of it once or twice.
func (lc *lifecycle) afterCompletion(b *business) (cancelled bool) {
	r, g := lc.g.r, lc.g
	switch u := r.Float64(); {
	case u < 0.012: // cancelled after completion: a full refund
		lc.ev(schemas.StatusCancelled, lc.completed.Add(time.Duration(1+r.IntN(7*24))*time.Hour))
		g.stats.cancellations++
		return true
	case u < 0.06: // one or two partial refunds
		left := lc.amount
		at := lc.completed
		parts := 1 + r.IntN(2)
		for j := range parts {
			share := 0.1 + 0.4*r.Float64()
			if j == parts-1 && r.IntN(4) == 0 {
				share = 1 // the rest
			}
			ref := roundTo(int64(float64(left)*share), 1)
			ref = min(max(ref, 1), left)
			left -= ref
			at = at.Add(time.Duration(1+r.IntN(14*24)) * time.Hour)
			e := lc.bk
			e.Status = schemas.StatusRefunded
			e.EventID = lc.bk.BookingID + "-refunded-" + strconv.Itoa(j)
			e.RefundAmount = decimal.New(ref, -b.cur.exp)
			e.OccurredAt = at
			g.emitClient(schemas.TopicBookings, lc.key, e)
			g.stats.refunds++
			if left == 0 {
				break
			}
		}
	}
	return false
}

// feedback emits client id's NPS or CSAT answer about the completed booking lc at b.
func (g *Generator) feedback(id string, key []byte, b *business, lc lifecycle) {
	r := g.r
	fb := schemas.Feedback{
		EventID: lc.bk.BookingID + "-fb", ClientID: id, BusinessID: b.id,
		OccurredAt: lc.completed.Add(time.Duration(1+r.IntN(72)) * time.Hour),
	}
	if r.Float64() < 0.6 {
		fb.Kind, fb.Score = schemas.FeedbackNPS, npsScore(r, b.quality)
	} else {
		fb.Kind, fb.Score = schemas.FeedbackCSAT, csatScore(r, b.quality)
	}
	g.emitClient(schemas.TopicFeedback, key, fb)
}

// instantShare is the share of completed bookings entered as created that skip confirmed;
// with the entry points and outcomes above it makes about half of all bookings created →
// completed.
const instantShare = 0.64

var statusWord = [...]string{
	schemas.StatusCreated: "created", schemas.StatusConfirmed: "confirmed",
	schemas.StatusCompleted: "completed", schemas.StatusCancelled: "cancelled", schemas.StatusRefunded: "refunded",
}

func npsScore(r *rand.Rand, q float64) int {
	switch u := r.Float64(); {
	case u < 0.25+0.5*q:
		return 9 + r.IntN(2)
	case u < 0.55+0.35*q:
		return 7 + r.IntN(2)
	default:
		return []int{0, 2, 3, 4, 5, 5, 6, 6, 6}[r.IntN(9)]
	}
}

func csatScore(r *rand.Rand, q float64) int {
	switch u := r.Float64(); {
	case u < 0.4+0.5*q:
		return 4 + r.IntN(2)
	case u < 0.7+0.25*q:
		return 3
	default:
		return 1 + r.IntN(2)
	}
}

func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// emitClient emits a valid client-keyed event, then maybe a malformed sibling.
func (g *Generator) emitClient(topic schemas.Topic, key []byte, v any) {
	g.emitKeyed(topic, key, v)
	if g.cfg.MalformedRate > 0 && g.r.Float64() < g.cfg.MalformedRate {
		g.malformed(topic, key, v)
	}
}

func (g *Generator) emit(topic schemas.Topic, key string, v any) {
	g.emitKeyed(topic, []byte(key), v)
}

func (g *Generator) emitKeyed(topic schemas.Topic, key []byte, v any) {
	g.buf = append(g.buf, Event{Topic: topic, Key: key, Value: g.encode(v)})
}

// encode appends v's JSON to the batch arena and returns it as its own capped slice.
func (g *Generator) encode(v any) []byte {
	s := len(g.bytes)
	switch v := v.(type) {
	case schemas.Enrollment:
		g.bytes = schemas.AppendEnrollment(g.bytes, v)
	case schemas.Booking:
		g.bytes = schemas.AppendBooking(g.bytes, v)
	case schemas.Business:
		g.bytes = schemas.AppendBusiness(g.bytes, v)
	case schemas.Feedback:
		g.bytes = schemas.AppendFeedback(g.bytes, v)
	case schemas.AcquisitionCost:
		g.bytes = schemas.AppendAcquisitionCost(g.bytes, v)
	case schemas.RetentionCost:
		g.bytes = schemas.AppendRetentionCost(g.bytes, v)
	default:
		panic("simulate: no encoder for " + strconv.Quote(typeName(v)))
	}
	return g.bytes[s:len(g.bytes):len(g.bytes)]
}

// finishBatch appends re-deliveries of some of the batch's valid events at its end.
func (g *Generator) finishBatch() {
	if g.cfg.DuplicateRate <= 0 {
		return
	}
	n := len(g.buf)
	g.seed(4, uint64(g.month), uint64(g.next+1))
	for k := range n {
		e := g.buf[k]
		if e.Malformed == "" && !e.Duplicate && g.r.Float64() < g.cfg.DuplicateRate {
			e.Duplicate = true
			g.buf = append(g.buf, e)
		}
	}
}
