package e2e

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/testkit/querytest"
	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// derived is what the test expects from the simulated events, computed in Go: the World the
// query pack must describe, the ledger's output as the pure Engine derives it, and the dead
// letters each consumer must write.
type derived struct {
	world querytest.World

	commissions []schemas.Commission          // every ledger entry, in order
	net         map[[2]string]decimal.Decimal // (owner, booking) -> net of its entries
	owners      int                           // referral-owner records the ledger writes

	// records per input topic; refused by the sink (undecodable); refused by the ledger
	// (undecodable or breaking a rule)
	records, sinkRefused, ledgerRefused map[schemas.Topic]int
}

// ledgerInput decodes the ledger input e and applies it with apply, counting a record that
// does not decode as refused by sink and ledger, and one apply refuses as refused by the
// ledger; ok says it was applied.
func ledgerInput[E any](d *derived, e simulate.Event, decode func([]byte) (E, error), apply func(E) (commission.Result, error)) (E, bool) {
	ev, err := decode(e.Value)
	if err != nil {
		d.sinkRefused[e.Topic]++
		d.ledgerRefused[e.Topic]++
		return ev, false
	}
	res, err := apply(ev)
	if err != nil {
		d.ledgerRefused[e.Topic]++
		return ev, false
	}
	d.apply(res)
	return ev, true
}

// sinkInput decodes the sink-only input e, counting a record that does not decode as refused
// by the sink.
func sinkInput[E any](d *derived, e simulate.Event, decode func([]byte) (E, error)) (E, bool) {
	ev, err := decode(e.Value)
	if err != nil {
		d.sinkRefused[e.Topic]++
		return ev, false
	}
	return ev, true
}

// once reports whether id is new to seen, and adds it.
func once(seen map[string]bool, id string) bool {
	if seen[id] {
		return false
	}
	seen[id] = true
	return true
}

// derive feeds the simulated events (in production order: per client, the order of its
// partition) through decoders, the ledger Engine and the definitions of SPEC §3.
func derive(events []simulate.Event, start, end time.Time, windows map[string]int) (*derived, error) {
	d := &derived{net: map[[2]string]decimal.Decimal{}, records: map[schemas.Topic]int{},
		sinkRefused: map[schemas.Topic]int{}, ledgerRefused: map[schemas.Topic]int{}}
	w := &d.world
	w.Start, w.End, w.Windows = start, end, windows
	w.Businesses = map[string]querytest.Business{}

	// The ledger reads the whole businesses topic before judging bookings (the test produces
	// everything before starting it), so the Engine's rates hold every businesses event.
	rates := commission.NewRates()
	type profile struct {
		at     time.Time
		id     string
		sector string
	}
	latest := map[string]profile{}
	for _, e := range events {
		if e.Topic != schemas.TopicBusinesses {
			continue
		}
		b, err := schemas.DecodeBusiness(e.Value)
		if err != nil {
			continue
		}
		rates.Apply(b)
		p, ok := latest[b.BusinessID]
		if !ok || b.OccurredAt.After(p.at) || b.OccurredAt.Equal(p.at) && b.EventID > p.id {
			latest[b.BusinessID] = profile{b.OccurredAt, b.EventID, b.Sector}
		}
	}
	for id, p := range latest {
		w.Businesses[id] = querytest.Business{ID: id, Sector: p.sector}
	}
	eng, err := commission.New(commission.Config{}, rates)
	if err != nil {
		return nil, err
	}

	states := map[string]*commission.State{}
	state := func(client string) *commission.State {
		s := states[client]
		if s == nil {
			s = new(commission.State)
			states[client] = s
		}
		return s
	}
	seen := map[string]bool{} // event ids of accepted input events
	bookingEvents := map[string][]schemas.Booking{}
	var enrollments []schemas.Enrollment
	for _, e := range events {
		d.records[e.Topic]++
		switch e.Topic {
		case schemas.TopicBusinesses:
			if _, err := schemas.DecodeBusiness(e.Value); err != nil {
				d.sinkRefused[e.Topic]++
				d.ledgerRefused[e.Topic]++
			}
		case schemas.TopicEnrollments:
			ev, ok := ledgerInput(d, e, schemas.DecodeEnrollment, func(ev schemas.Enrollment) (commission.Result, error) {
				return eng.Enrollment(state(ev.ClientID), ev)
			})
			if ok && once(seen, ev.EventID) {
				enrollments = append(enrollments, ev)
			}
		case schemas.TopicBookings:
			ev, ok := ledgerInput(d, e, schemas.DecodeBooking, func(ev schemas.Booking) (commission.Result, error) {
				return eng.Booking(state(ev.ClientID), ev)
			})
			if ok && once(seen, ev.EventID) {
				bookingEvents[ev.BookingID] = append(bookingEvents[ev.BookingID], ev)
			}
		case schemas.TopicFeedback:
			if f, ok := sinkInput(d, e, schemas.DecodeFeedback); ok && once(seen, f.EventID) {
				w.Feedback = append(w.Feedback, querytest.Feedback{EventID: f.EventID, Business: f.BusinessID,
					Kind: string(f.Kind), Score: f.Score, At: sec(f.OccurredAt)})
			}
		case schemas.TopicAcquisitionCosts:
			if a, ok := sinkInput(d, e, schemas.DecodeAcquisitionCost); ok && once(seen, a.EventID) {
				w.Spend = append(w.Spend, querytest.Spend{EventID: a.EventID, Business: a.BusinessID,
					Currency: a.Currency, Amount: a.Amount, At: sec(a.OccurredAt)})
			}
		case schemas.TopicRetentionCosts:
			if rc, ok := sinkInput(d, e, schemas.DecodeRetentionCost); ok && once(seen, rc.EventID) {
				w.Retention = append(w.Retention, querytest.RetentionSpend{EventID: rc.EventID, Business: rc.BusinessID,
					Client: rc.ClientID, Currency: rc.Currency, Amount: rc.Amount, At: sec(rc.OccurredAt)})
			}
		}
	}

	// Clients: every client the ledger gave an owner, as it stands at the end.
	owner := map[string]string{}
	for id, s := range states {
		o, ok := s.Owner()
		if !ok {
			continue
		}
		owner[id] = o.OwnerBusinessID
		w.Clients = append(w.Clients, querytest.Client{ID: id, Owner: o.OwnerBusinessID, OwnedSince: sec(o.OwnedSince)})
	}
	slices.SortFunc(w.Clients, func(a, b querytest.Client) int { return cmp.Compare(a.ID, b.ID) })
	for _, ev := range enrollments {
		w.Enrollments = append(w.Enrollments, querytest.Enrollment{EventID: ev.EventID, Client: ev.ClientID,
			Business: ev.BusinessID, At: sec(ev.OccurredAt)})
	}

	// Purchases (SPEC §3): completed and never cancelled; net of the accepted refunds. The
	// commission is the net of the current owner's entries for the booking.
	for id, evs := range bookingEvents {
		var done *schemas.Booking
		cancelled := false
		refunded := decimal.Zero
		for i := range evs {
			switch evs[i].Status {
			case schemas.StatusCompleted:
				if done == nil || evs[i].OccurredAt.Before(done.OccurredAt) {
					done = &evs[i]
				}
			case schemas.StatusCancelled:
				cancelled = true
			case schemas.StatusRefunded:
				refunded = refunded.Add(evs[i].RefundAmount)
			}
		}
		if done == nil || cancelled {
			continue
		}
		o, ok := owner[done.ClientID]
		if !ok {
			continue
		}
		w.Purchases = append(w.Purchases, querytest.Purchase{BookingID: id, Client: done.ClientID, Provider: done.BusinessID,
			Currency: done.Currency, At: sec(done.OccurredAt), Amount: done.Amount, Refunded: refunded,
			Commission: d.net[[2]string{o, id}]})
	}
	slices.SortFunc(w.Purchases, func(a, b querytest.Purchase) int { return cmp.Compare(a.BookingID, b.BookingID) })
	return d, nil
}

func (d *derived) apply(res commission.Result) {
	if res.Owner != nil {
		d.owners++
	}
	for _, c := range res.Commissions {
		d.commissions = append(d.commissions, c)
		k := [2]string{c.OwnerBusinessID, c.BookingID}
		d.net[k] = d.net[k].Add(c.Amount)
	}
}

// wantRawTables adds to want the rows the sink must store: every input table holds the
// topic's records less those the sink refuses, which go to dlq.
func (d *derived) wantRawTables(want map[string]int) {
	tables := map[schemas.Topic]string{schemas.TopicEnrollments: "enrollments", schemas.TopicBookings: "bookings",
		schemas.TopicBusinesses: "businesses", schemas.TopicFeedback: "feedback", schemas.TopicAcquisitionCosts: "acquisition_costs",
		schemas.TopicRetentionCosts: "retention_costs"}
	for def, table := range tables {
		want[table] = d.records[def] - d.sinkRefused[def]
		want["dlq"] += d.sinkRefused[def]
	}
}

// sec truncates t to whole seconds: the SQL compares DateTime('UTC') values.
func sec(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// clone copies an event out of the generator's arena.
func clone(e simulate.Event) simulate.Event {
	e.Key, e.Value = bytes.Clone(e.Key), bytes.Clone(e.Value)
	return e
}
