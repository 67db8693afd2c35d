package sink

import "github.com/taskole/revshare/schemas"

// bookingRows are the own columns of the bookings table (taskole.bookings.v1).
type bookingRows struct {
	eventID, bookingID, clientID, businessID strCol
	status                                   i8Col
	amount                                   decCol
	currency                                 strCol
	refundAmount                             decCol
	category                                 strCol
	occurredAt                               timeCol
	occurredNs                               u32Col
}

func bookingsRoute(rc routeConfig) route {
	c := &bookingRows{}
	return newRoute(rc, "bookings", []namedCol{
		{"event_id", &c.eventID}, {"booking_id", &c.bookingID}, {"client_id", &c.clientID},
		{"business_id", &c.businessID}, {"status", &c.status}, {"amount", &c.amount},
		{"currency", &c.currency}, {"refund_amount", &c.refundAmount}, {"category", &c.category},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeBooking, checkBooking, c.add)
}

func checkBooking(v *schemas.Booking) *schemas.InvalidError {
	if v.Status < schemas.StatusCreated || v.Status > schemas.StatusRefunded {
		return invalidField("status", "unknown status %d", v.Status)
	}
	if e := checkMoney("amount", v.Amount, money); e != nil {
		return e
	}
	if e := checkMoney("refund_amount", v.RefundAmount, money); e != nil {
		return e
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *bookingRows) add(v *schemas.Booking) {
	c.eventID = append(c.eventID, v.EventID)
	c.bookingID = append(c.bookingID, v.BookingID)
	c.clientID = append(c.clientID, v.ClientID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.status = append(c.status, int8(v.Status))
	c.amount = append(c.amount, v.Amount)
	c.currency = append(c.currency, v.Currency)
	c.refundAmount = append(c.refundAmount, v.RefundAmount)
	c.category = append(c.category, v.Category)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
