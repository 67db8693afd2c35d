package simulate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// MalformedKind names the defect of a malformed record. Each malformed record carries exactly
// one defect and a fresh event_id, so each must yield exactly one dead-letter record per
// consumer that reads its topic.
type MalformedKind string

// Malformed kinds. The first five are caught by a stateless decoder; the stateful ones only by
// a consumer that tracks a booking's lifecycle (the ledger).
const (
	BadJSON              MalformedKind = "bad_json"              // truncated JSON
	MissingField         MalformedKind = "missing_field"         // a required field removed
	UnknownCurrency      MalformedKind = "unknown_currency"      // completed booking in "QQQ"
	NegativeAmount       MalformedKind = "negative_amount"       // completed booking with amount < 0
	UnknownStatus        MalformedKind = "unknown_status"        // status "no_show"
	ImpossibleTransition MalformedKind = "impossible_transition" // completed after cancelled
	RefundExceeds        MalformedKind = "refund_exceeds"        // refund beyond what is left
)

// MalformedKinds lists every kind, stateless ones first.
var MalformedKinds = []MalformedKind{BadJSON, MissingField, UnknownCurrency, NegativeAmount,
	UnknownStatus, ImpossibleTransition, RefundExceeds}

// Stateful reports whether only a consumer tracking booking lifecycles can detect the defect:
// the record decodes fine on its own.
func (k MalformedKind) Stateful() bool { return k == ImpossibleTransition || k == RefundExceeds }

// requiredField is the field a missing_field record of each topic lacks.
var requiredField = map[schemas.Topic][]string{
	schemas.TopicEnrollments:      {"business_id", "occurred_at"},
	schemas.TopicBookings:         {"booking_id", "status", "occurred_at", "business_id"},
	schemas.TopicFeedback:         {"score", "kind"},
	schemas.TopicBusinesses:       {"business_id"},
	schemas.TopicAcquisitionCosts: {"amount"},
}

// malformed emits one malformed record modelled on the valid event v just emitted.
func (g *Generator) malformed(topic schemas.Topic, key []byte, v any) {
	r := g.r
	g.seq++
	suffix := "-m" + strconv.Itoa(g.seq)
	kind := []MalformedKind{BadJSON, MissingField}[r.IntN(2)]
	bk, isBooking := v.(schemas.Booking)
	if isBooking && bk.Status == schemas.StatusCompleted {
		kind = MalformedKinds[r.IntN(len(MalformedKinds))]
	} else if isBooking && r.IntN(3) == 0 {
		kind = UnknownStatus
	}
	bad := func(value []byte) {
		g.buf = append(g.buf, Event{Topic: topic, Key: key, Value: value, Malformed: kind})
	}
	switch kind {
	case BadJSON:
		b := g.encode(withEventID(v, suffix))
		bad(b[: len(b)/2 : len(b)/2])
	case MissingField:
		fields := requiredField[topic]
		bad(editJSON(g.encode(withEventID(v, suffix)), fields[r.IntN(len(fields))], nil))
	case UnknownStatus:
		bad(editJSON(g.encode(withEventID(v, suffix)), "status", []byte(`"no_show"`)))
	case UnknownCurrency, NegativeAmount, ImpossibleTransition, RefundExceeds:
		g.badBooking(topic, key, bk, kind, suffix, bad)

	}
}

// badBooking emits a fresh booking of kind (a rule the ledger refuses) modelled on the
// completed booking bk, through bad for the refused record.
func (g *Generator) badBooking(topic schemas.Topic, key []byte, bk schemas.Booking, kind MalformedKind, suffix string, bad func([]byte)) {
	// A fresh booking with the same provider, a minute after the completed source event.
	fresh := bk
	fresh.BookingID = bk.BookingID + suffix
	fresh.OccurredAt = bk.OccurredAt.Add(time.Minute)
	ev := func(st schemas.Status) schemas.Booking {
		e := fresh
		e.Status = st
		e.EventID = fresh.BookingID + "-" + statusWord[st]
		return e
	}
	switch kind {
	case UnknownCurrency:
		e := ev(schemas.StatusCompleted)
		e.Currency = "QQQ"
		bad(g.encode(e))
	case NegativeAmount:
		e := ev(schemas.StatusCompleted)
		e.Amount = bk.Amount.Neg()
		bad(g.encode(e))
	case ImpossibleTransition:
		g.stats.bookings++
		g.stats.cancellations++
		g.emitKeyed(topic, key, ev(schemas.StatusCreated))
		g.emitKeyed(topic, key, ev(schemas.StatusCancelled))
		bad(g.encode(ev(schemas.StatusCompleted)))
	case RefundExceeds:
		g.stats.bookings++
		g.stats.completed++
		if bk.BusinessID != g.biz[g.curOwner].id {
			g.stats.cross++
		}
		g.emitKeyed(topic, key, ev(schemas.StatusCompleted))
		e := ev(schemas.StatusRefunded)
		e.EventID += "-0"
		exp, _ := schemas.MinorUnit(bk.Currency)
		e.RefundAmount = bk.Amount.Add(decimal.New(1, -exp))
		e.OccurredAt = fresh.OccurredAt.Add(24 * time.Hour)
		bad(g.encode(e))
	}
}

// withEventID returns a copy of the event v with suffix appended to its event id: the
// EventID field every input event type has.
func withEventID(v any, suffix string) any {
	c := reflect.New(reflect.TypeOf(v)).Elem()
	c.Set(reflect.ValueOf(v))
	if c.Kind() != reflect.Struct || c.FieldByName("EventID").Kind() != reflect.String {
		panic("simulate: unknown event type " + typeName(v))
	}
	id := c.FieldByName("EventID")
	id.SetString(id.String() + suffix)
	return c.Interface()
}

// editJSON sets field to value in a JSON object, or removes it when value is nil.
func editJSON(data []byte, field string, value []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		panic("simulate: re-reading own encoding: " + err.Error())
	}
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic("simulate: re-encoding: " + err.Error())
	}
	return out
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
