package topology

import "github.com/taskole/revshare/schemas"

// The row mappings of the raw tables (sql/migrations): one function per sunk topic, naming
// every own column of its table in table order. The enum codes come from schemas (Enum).

func bookingRows() Rows {
	statuses := schemas.Statuses()
	return Map(schemas.Bounds.DecodeBooking, func(v *schemas.Booking, c Columns) {
		c.String("event_id", v.EventID)
		c.String("booking_id", v.BookingID)
		c.String("client_id", v.ClientID)
		c.String("business_id", v.BusinessID)
		enum8(c, "status", statuses, v.Status)
		c.Money("amount", v.Amount)
		c.String("currency", v.Currency)
		c.Money("refund_amount", v.RefundAmount)
		c.String("category", v.Category)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func enrollmentRows() Rows {
	sources := schemas.EnrollmentSources()
	return Map(schemas.Bounds.DecodeEnrollment, func(v *schemas.Enrollment, c Columns) {
		c.String("event_id", v.EventID)
		c.String("client_id", v.ClientID)
		c.String("business_id", v.BusinessID)
		enum8(c, "source", sources, v.Source)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func businessRows() Rows {
	return Map(schemas.Bounds.DecodeBusiness, func(v *schemas.Business, c Columns) {
		c.String("event_id", v.EventID)
		c.String("business_id", v.BusinessID)
		c.String("name", v.Name)
		c.String("sector", v.Sector)
		c.Rate("referral_rate", v.ReferralRate)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func feedbackRows() Rows {
	kinds := schemas.FeedbackKinds()
	return Map(schemas.Bounds.DecodeFeedback, func(v *schemas.Feedback, c Columns) {
		c.String("event_id", v.EventID)
		c.String("client_id", v.ClientID)
		c.String("business_id", v.BusinessID)
		enum8(c, "kind", kinds, v.Kind)
		c.UInt8("score", int64(v.Score))
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func acquisitionCostRows() Rows {
	return Map(schemas.Bounds.DecodeAcquisitionCost, func(v *schemas.AcquisitionCost, c Columns) {
		c.String("event_id", v.EventID)
		c.String("business_id", v.BusinessID)
		c.Money("amount", v.Amount)
		c.String("currency", v.Currency)
		c.String("channel", v.Channel)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func referralOwnerRows() Rows {
	sources := schemas.OwnerSources()
	return Map(Unbounded(schemas.DecodeReferralOwner), func(v *schemas.ReferralOwner, c Columns) {
		c.String("client_id", v.ClientID)
		c.String("owner_business_id", v.OwnerBusinessID)
		c.TimeNs("owned_since", v.OwnedSince)
		enum8(c, "source", sources, v.Source)
		c.String("event_id", v.EventID)
	})
}

func commissionRows() Rows {
	kinds, reasons := schemas.CommissionKinds(), schemas.Reasons()
	return Map(Unbounded(schemas.DecodeCommission), func(v *schemas.Commission, c Columns) {
		c.String("commission_id", v.CommissionID)
		enum8(c, "kind", kinds, v.Kind)
		enum8(c, "reason", reasons, v.Reason)
		c.String("owner_business_id", v.OwnerBusinessID)
		c.String("provider_business_id", v.ProviderBusinessID)
		c.String("client_id", v.ClientID)
		c.String("booking_id", v.BookingID)
		c.Money("booking_amount", v.BookingAmount)
		c.Rate("rate", v.Rate)
		c.Money("amount", v.Amount)
		c.String("currency", v.Currency)
		c.TimeNs("occurred_at", v.OccurredAt)
		c.TimeNs("payable_at", v.PayableAt)
		c.String("source_event_id", v.SourceEventID)
	})
}

// purchaseFactRows decodes with the sink's bounds: the facts carry the input's times and
// amounts.
func purchaseFactRows() Rows {
	return Map(schemas.Bounds.DecodePurchaseFact, func(v *schemas.PurchaseFact, c Columns) {
		c.String("fact_id", v.FactID)
		c.String("client_id", v.ClientID)
		c.String("booking_id", v.BookingID)
		c.String("provider_business_id", v.ProviderBusinessID)
		c.String("currency", v.Currency)
		c.TimeNs("completed_at", v.CompletedAt)
		c.Int8("purchases", int64(v.Purchases))
		c.Money("amount", v.Amount)
		c.Money("refunded", v.Refunded)
		c.String("commission_owner", v.CommissionOwner)
		c.Money("commission", v.Commission)
		c.String("source_event_id", v.SourceEventID)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}

func payoutRows() Rows {
	return Map(Unbounded(schemas.DecodePayout), func(v *schemas.Payout, c Columns) {
		c.String("payout_id", v.PayoutID)
		c.String("owner_business_id", v.OwnerBusinessID)
		c.String("currency", v.Currency)
		c.Time("period_start", v.PeriodStart)
		c.Time("period_end", v.PeriodEnd)
		c.Money("opening_balance", v.OpeningBalance)
		c.Money("accrued", v.Accrued)
		c.Money("reversed", v.Reversed)
		c.Money("net", v.Net)
		c.Money("payable", v.Payable)
		c.Money("carried_forward", v.CarriedForward)
		c.UInt32("commission_count", int64(v.CommissionCount))
		ids := v.CommissionIDs
		if ids == nil {
			ids = []string{}
		}
		c.Strings("commission_ids", ids)
	})
}

// DeadLetterRows is the mapping of the dlq table: the pipeline's dead letters as they were
// written, and (Mapping.Row) the records the sink refuses itself.
func DeadLetterRows() *Mapping[schemas.DeadLetter] {
	return Map(Unbounded(schemas.DecodeDeadLetter), func(v *schemas.DeadLetter, c Columns) {
		c.String("source_topic", v.Topic)
		c.Int32("source_partition", v.Partition)
		c.Int64("source_offset", v.Offset)
		c.String("key", string(v.Key))
		c.String("value", string(v.Value))
		c.String("error", v.Error)
		c.String("error_label", v.Reason) // the producer's poison label; "" from producers that set none
		c.String("consumer", v.Consumer)
		c.Stamp("failed_at", v.FailedAt)
	})
}

func retentionCostRows() Rows {
	kinds := schemas.RetentionKinds()
	return Map(schemas.Bounds.DecodeRetentionCost, func(v *schemas.RetentionCost, c Columns) {
		c.String("event_id", v.EventID)
		c.String("business_id", v.BusinessID)
		c.String("client_id", v.ClientID)
		c.Money("amount", v.Amount)
		c.String("currency", v.Currency)
		enum8(c, "kind", kinds, v.Kind)
		c.TimeNs("occurred_at", v.OccurredAt)
	})
}
