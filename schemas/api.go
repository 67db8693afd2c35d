package schemas

// The decoder and encoder API. Implementations live in decode.go and encode.go.
//
//	func DecodeEnrollment(data []byte) (Enrollment, error)
//	func DecodeBooking(data []byte) (Booking, error)
//	func DecodeBusiness(data []byte) (Business, error)
//	func DecodeFeedback(data []byte) (Feedback, error)
//	func DecodeAcquisitionCost(data []byte) (AcquisitionCost, error)
//	func DecodeRetentionCost(data []byte) (RetentionCost, error)
//	func DecodeReferralOwner(data []byte) (ReferralOwner, error)
//	func DecodeCommission(data []byte) (Commission, error)
//	func DecodePayout(data []byte) (Payout, error)
//	func DecodeDeadLetter(data []byte) (DeadLetter, error)
//	func DecodePurchaseFact(data []byte) (PurchaseFact, error)   (Bounds.DecodePurchaseFact: under bounds)
//
//	func AppendReferralOwner(dst []byte, v ReferralOwner) []byte   (and Append* for every type)
//
//	func MinorUnit(currency string) (exp int32, ok bool)   ISO 4217 exponent: EUR 2, JPY 0, BHD 3
//
// Errors: *InvalidError{Field, Reason} (errors.As), e.g. `field "amount": not a decimal string`.
