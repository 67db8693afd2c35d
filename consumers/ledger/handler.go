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
	bounds   schemas.Bounds
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
		ev, derr := h.bounds.DecodeEnrollment(rec.Value)
		if derr != nil {
			return fmt.Errorf("decoding enrollment: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return err
		}
		client, at = ev.ClientID, ev.OccurredAt
		s := tx.State(client)
		res, err = h.eng.AppendEnrollment(h.buf[:0], s, ev)
		if err != nil {
			return fmt.Errorf("applying enrollment %s: %w", ev.EventID, err)
		}
		if res.Rejected {
			h.rejected.Inc()
		}
	case string(h.topics.Bookings):
		ev, derr := h.bounds.DecodeBooking(rec.Value)
		if derr != nil {
			return fmt.Errorf("decoding booking: %w", derr)
		}
		if err := checkKey(rec, ev.ClientID); err != nil {
			return err
		}
		client, at = ev.ClientID, ev.OccurredAt
		s := tx.State(client)
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
		return stream.Poisoned("key:mismatch", fmt.Errorf("record key %s is not the client_id %s",
			schemas.Quote(rec.Key), schemas.Quote([]byte(client))))
	}
	return nil
}

func (h *handler) AppendState(dst []byte, s *rules.State) ([]byte, error) { return s.AppendBinary(dst) }
func (h *handler) UnmarshalState(s *rules.State, data []byte) error {
	return h.eng.UnmarshalState(s, data)
}
func (h *handler) EmptyState(s *rules.State) bool { return s.Empty() }

// Sweep prunes the client's bookings past its own horizon (stream.Sweeper). The partition's
// watermark is not used: one client's far-future event must not cut another client's
// bookings (SPEC R8; rules.Engine.PruneOwn).
func (h *handler) Sweep(_ time.Time, s *rules.State) bool { return h.eng.PruneOwn(s) }
