package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	rules "github.com/taskole/revshare/pipelines/ledger"
	"github.com/taskole/revshare/schemas"
)

// handler applies enrollments and bookings to the client's state (stream.Handler).
type handler struct {
	eng      *rules.Engine
	topics   schemas.Topics
	rejected prometheus.Counter
	buf      []schemas.Commission
}

func (h *handler) Handle(_ context.Context, rec *kgo.Record, tx *stream.Tx[rules.State]) error {
	var (
		res    rules.Result
		client string
		at     time.Time
		err    error
	)
	switch rec.Topic {
	case string(h.topics.Enrollments):
		ev, derr := schemas.DecodeEnrollment(rec.Value)
		if derr != nil {
			return fmt.Errorf("decoding enrollment: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return err
		}
		client, at = ev.ClientID, ev.OccurredAt
		s := tx.State(client)
		h.prune(s, tx.Watermark())
		res, err = h.eng.AppendEnrollment(h.buf[:0], s, ev)
		if err != nil {
			return fmt.Errorf("applying enrollment %s: %w", ev.EventID, err)
		}
		if res.Rejected {
			tx.Count(h.rejected)
		}
	case string(h.topics.Bookings):
		ev, derr := schemas.DecodeBooking(rec.Value)
		if derr != nil {
			return fmt.Errorf("decoding booking: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return err
		}
		client, at = ev.ClientID, ev.OccurredAt
		s := tx.State(client)
		h.prune(s, tx.Watermark())
		res, err = h.eng.AppendBooking(h.buf[:0], s, ev)
		if err != nil {
			return fmt.Errorf("applying booking %s event %s: %w", ev.BookingID, ev.EventID, err)
		}
	default:
		return fmt.Errorf("record from unexpected topic %q", rec.Topic)
	}
	h.buf = res.Commissions[:0]
	tx.Advance(at)
	if res.Owner != nil {
		o := *res.Owner
		o.ClientID = client
		tx.Produce(&kgo.Record{Topic: string(h.topics.ReferralOwners), Key: []byte(client),
			Value: schemas.AppendReferralOwner(nil, o)})
	}
	for _, c := range res.Commissions {
		tx.Produce(&kgo.Record{Topic: string(h.topics.Commissions), Key: []byte(c.OwnerBusinessID),
			Value: schemas.AppendCommission(nil, c)})
	}
	return nil
}

// checkKey refuses a record whose key is not its client_id: it would sit on the wrong
// partition, away from the client's state.
func checkKey(rec *kgo.Record, client string) error {
	if string(rec.Key) != client {
		return stream.Poisoned("key:mismatch", fmt.Errorf("record key %q is not the client_id %q", rec.Key, client))
	}
	return nil
}

func (h *handler) AppendState(dst []byte, s *rules.State) ([]byte, error) { return s.AppendBinary(dst) }
func (h *handler) UnmarshalState(s *rules.State, data []byte) error {
	return h.eng.UnmarshalState(s, data)
}
func (h *handler) EmptyState(s *rules.State) bool { return s.Empty() }

// Sweep prunes bookings past the horizon (stream.Sweeper).
func (h *handler) Sweep(watermark time.Time, s *rules.State) bool {
	n := s.Bookings()
	h.prune(s, watermark)
	return s.Bookings() != n
}

// prune drops the client's bookings past the horizon of the partition's watermark.
func (h *handler) prune(s *rules.State, watermark time.Time) {
	if !watermark.IsZero() {
		h.eng.Prune(s, watermark)
	}
}
