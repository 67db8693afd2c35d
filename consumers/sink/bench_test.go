package sink

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// BenchmarkHandleBooking measures decode + checks + columnar row mapping of one booking.
func BenchmarkHandleBooking(b *testing.B) {
	s, err := New(Config{Database: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tp := schemas.Topics{}.WithDefaults()
	v := schemas.AppendBooking(nil, schemas.Booking{EventID: "evt-000000000001", BookingID: "bkg-000000000001",
		ClientID: "cli-000000000001", BusinessID: "biz-000000000001", Status: schemas.StatusCompleted,
		Amount: decimal.RequireFromString("49.90"), Currency: "EUR", Category: "massage",
		OccurredAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
	r := &kgo.Record{Topic: string(tp.Bookings), Partition: 0, Value: v}
	s.owned[tpKey(r)] = true
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(v)))
	for i := 0; b.Loop(); i++ {
		r.Offset = int64(i)
		s.handle(r, now)
		if s.rows == 50_000 {
			s.bookings.reset()
			s.rows = 0
		}
	}
}

func tpKey(r *kgo.Record) tp { return tp{r.Topic, r.Partition} }

var _ = fmt.Sprint
