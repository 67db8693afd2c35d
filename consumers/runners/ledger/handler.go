package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// handler applies enrollments and bookings to the client's state (stream.Handler).
type handler struct {
	eng      *commission.Engine
	bounds   schemas.Bounds
	topics   schemas.Topics
	rejected prometheus.Counter
	gate     *ratesGate // nil: judge with whatever the rates table holds
	buf      []schemas.Commission
	facts    []schemas.PurchaseFact // reused: a record's facts are encoded before the next
	out      outBuf                 // the bytes of the produced records
	metas    map[string]string      // progressMeta by input topic, built once per topic

	// Set by Runner.Run before processing starts: the ledger's input set with partition
	// counts (written into every progress marker) and the commissions partition count.
	inputs      []schemas.InputTopic
	commissions int32
}

// progressMeta is the stream metadata name of the progress of one input topic's partition.
func progressMeta(topic string) string { return "progress/" + topic }

// progress is how far the ledger got in one input partition (one topic's partition): the
// offset after the last record handled and the largest occurred_at of the accepted records.
type progress struct {
	next      int64
	watermark int64 // unix nanos; 0: none
}

func (p progress) append(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.watermark))
	return binary.BigEndian.AppendUint64(dst, uint64(p.next))
}

func decodeProgress(b []byte) progress {
	if len(b) != 16 {
		return progress{}
	}
	return progress{watermark: int64(binary.BigEndian.Uint64(b)), next: int64(binary.BigEndian.Uint64(b[8:]))}
}

// Handle applies the record and keeps its input partition's progress: the offset always (a
// dead-lettered record is handled too), the watermark when the record was accepted. The
// commissions carry the partition's watermark from before the record (see schemas.SourceHeader).
func (h *handler) Handle(ctx context.Context, rec *kgo.Record, tx *stream.Tx[commission.State]) error {
	if h.gate != nil {
		if err := h.gate.wait(ctx); err != nil {
			return fmt.Errorf("waiting for the rates table: %w", err)
		}
	}
	name, ok := h.metas[rec.Topic]
	if !ok {
		if h.metas == nil {
			h.metas = map[string]string{}
		}
		name = progressMeta(rec.Topic)
		h.metas[rec.Topic] = name
	}
	pr := decodeProgress(tx.Meta(name))
	before := pr.watermark
	at, err := h.apply(ctx, rec, tx, before)
	if rec.Partition == tx.Partition() {
		// A record forwarded through the repartition topic (stream.Config.Repartition) comes
		// with its original coordinates, another partition's offset: it moves this state
		// partition's watermark (its commissions are judged against it), not its offset.
		pr.next = rec.Offset + 1
	}
	if err == nil && at.UnixNano() > pr.watermark {
		pr.watermark = at.UnixNano()
	}
	var buf [16]byte
	tx.SetMeta(name, pr.append(buf[:0]))
	return err
}

// apply handles one input record; source is its partition's watermark before it.
func (h *handler) apply(_ context.Context, rec *kgo.Record, tx *stream.Tx[commission.State], source int64) (time.Time, error) {
	var (
		res    commission.Result
		client string
		at     time.Time
		err    error
	)
	switch rec.Topic {
	case string(h.topics.Enrollments):
		ev, derr := h.bounds.DecodeEnrollment(rec.Value)
		if derr != nil {
			return at, fmt.Errorf("decoding enrollment: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return at, err
		}
		client, at = ev.ClientID, ev.OccurredAt
		err = update(tx, client, func(s *commission.State) (changed bool, err error) {
			res, err = h.eng.AppendEnrollment(h.buf[:0], s, ev)
			return res.Owner != nil, err // a duplicate or a losing claim changes nothing
		})
		if err != nil {
			return at, fmt.Errorf("applying enrollment %s: %w", ev.EventID, err)
		}
		if res.Rejected {
			tx.Count(h.rejected)
		}
	case string(h.topics.Bookings):
		ev, derr := h.bounds.DecodeBooking(rec.Value)
		if derr != nil {
			return at, fmt.Errorf("decoding booking: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return at, err
		}
		client, at = ev.ClientID, ev.OccurredAt
		err = update(tx, client, func(s *commission.State) (changed bool, err error) {
			res, err = h.eng.AppendBookingFactsAsOf(h.buf[:0], h.facts[:0], s, ev, rec.Timestamp)
			return !res.Duplicate, err
		})
		if err != nil {
			return at, fmt.Errorf("applying booking %s event %s: %w", ev.BookingID, ev.EventID, err)
		}
	default:
		return at, fmt.Errorf("record from unexpected topic %q", rec.Topic)
	}
	h.buf = res.Commissions[:0]
	if res.Facts != nil {
		h.facts = res.Facts[:0] // encoded below, before the next record
	}
	tx.Advance(at)
	h.produce(rec, tx, client, res, source)
	return at, nil
}

// produce adds the outputs of an accepted record to the transaction: the owner change, the
// purchase facts (keyed client_id), and the commissions with their source partition and its
// watermark before the record.
func (h *handler) produce(rec *kgo.Record, tx *stream.Tx[commission.State], client string, res commission.Result, source int64) {
	o := &h.out
	if res.Owner != nil {
		ow := *res.Owner
		ow.ClientID = client
		key := o.bytes(client)
		n := o.start()
		o.b = schemas.AppendReferralOwner(o.b, ow)
		tx.Produce(&kgo.Record{Topic: string(h.topics.ReferralOwners), Key: key, Value: o.since(n)})
	}
	var key []byte
	if len(res.Facts) > 0 {
		key = o.bytes(client)
	}
	for _, f := range res.Facts {
		n := o.start()
		o.b = schemas.AppendPurchaseFact(o.b, f)
		tx.Produce(&kgo.Record{Topic: string(h.topics.PurchaseFacts), Key: key, Value: o.since(n)})
	}
	if len(res.Commissions) == 0 {
		return
	}
	n := o.start()
	o.b = strconv.AppendInt(append(append(o.b, rec.Topic...), '/'), int64(tx.Partition()), 10)
	src := o.since(n)
	var wm []byte
	if source != 0 {
		n = o.start()
		o.b = time.Unix(0, source).UTC().AppendFormat(o.b, time.RFC3339Nano)
		wm = o.since(n)
	}
	for _, c := range res.Commissions {
		key := o.bytes(c.OwnerBusinessID)
		n := o.start()
		o.b = schemas.AppendCommission(o.b, c)
		tx.Produce(&kgo.Record{Topic: string(h.topics.Commissions), Key: key, Value: o.since(n),
			Headers: []kgo.RecordHeader{{Key: schemas.SourceHeader, Value: src}, {Key: schemas.SourceWatermarkHeader, Value: wm}}})
	}
}

// update applies fn to the client's state and marks the state changed only when fn
// succeeds and says it changed it: a record the rules refuse, and one they find has no effect
// (a redelivered event, an enrollment that loses to the owner's), leaves the partition's state
// as it was — not even a new empty entry or a changelog write (the stream.Handler contract).
// The engine changes nothing when it refuses, and nothing for a duplicate or a losing claim.
func update(tx *stream.Tx[commission.State], client string, fn func(*commission.State) (bool, error)) error {
	if s, ok := tx.Peek(client); ok {
		changed, err := fn(s)
		if err != nil {
			return err
		}
		if changed {
			tx.State(client) // the same state, now marked changed
		}
		return nil
	}
	var fresh commission.State
	changed, err := fn(&fresh)
	if err != nil || !changed {
		return err
	}
	*tx.State(client) = fresh
	return nil
}

// BeforeCommit writes one progress marker to every partition of the commissions topic, after
// the transaction's commissions: the progress of every input partition the transaction
// handled, with the ledger's complete input set (stream.Committer).
func (h *handler) BeforeCommit(c *stream.Commit) error {
	if h.gate != nil {
		h.gate.newTransaction()
	}
	v := schemas.LedgerProgress{Inputs: h.inputs}
	for _, m := range c.Changed() {
		topic, ok := strings.CutPrefix(m.Name, "progress/")
		if !ok {
			continue
		}
		pr := decodeProgress(m.Value)
		pp := schemas.PartitionProgress{Topic: topic, Partition: m.Partition, NextOffset: pr.next}
		if pr.watermark != 0 {
			pp.Watermark = time.Unix(0, pr.watermark).UTC()
		}
		v.Progress = append(v.Progress, pp)
	}
	if len(v.Progress) == 0 {
		return nil
	}
	if len(h.inputs) == 0 || h.commissions <= 0 {
		return errors.New("writing progress markers: input set or commissions partition count unknown")
	}
	val := schemas.AppendLedgerProgress(nil, v)
	hdr := []kgo.RecordHeader{{Key: schemas.MarkerHeader, Value: []byte(schemas.MarkerProgress)}}
	for q := range h.commissions {
		c.Produce(&kgo.Record{Topic: string(h.topics.Commissions), Partition: q, Value: val, Headers: hdr})
	}
	return nil
}

// checkKey refuses a record whose key is not its client_id: it would sit on the wrong
// partition, away from the client's state.
func checkKey(rec *kgo.Record, client string) error {
	if string(rec.Key) != client {
		return schemas.Refused(schemas.LabelKeyMismatch, fmt.Errorf("record key %s is not the client_id %s",
			schemas.Quote(rec.Key), schemas.Quote([]byte(client))))
	}
	return nil
}

func (h *handler) AppendState(dst []byte, s *commission.State) ([]byte, error) {
	return s.AppendBinary(dst)
}
func (h *handler) UnmarshalState(s *commission.State, data []byte) error {
	return h.eng.UnmarshalState(s, data)
}
func (h *handler) EmptyState(s *commission.State) bool { return s.Empty() }

// Sweep prunes the client's bookings past its own horizon (stream.Sweeper). The partition's
// watermark is not used: one client's far-future event must not cut another client's
// bookings (SPEC R8; commission.Engine.PruneOwn).
func (h *handler) Sweep(_ time.Time, s *commission.State) bool { return h.eng.PruneOwn(s) }

// SweepsIncrementally declares Sweep an incremental one (stream.IncrementalSweeper): PruneOwn
// ignores the watermark and is idempotent — its cut only moves with the client's own
// bookings, and it keeps only bookings at or after the cut, so a second PruneOwn of an
// unchanged state drops nothing.
func (h *handler) SweepsIncrementally() {}
