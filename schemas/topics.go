package schemas

// Topic is a Kafka topic name. Names are configurable; these are the defaults of SPEC §4.
type Topic string

// Default topic names.
const (
	TopicEnrollments      Topic = "taskole.enrollments.v1"
	TopicBookings         Topic = "taskole.bookings.v1"
	TopicBusinesses       Topic = "taskole.businesses.v1"
	TopicFeedback         Topic = "taskole.feedback.v1"
	TopicAcquisitionCosts Topic = "taskole.acquisition-costs.v1"
	TopicRetentionCosts   Topic = "taskole.retention-costs.v1"
	TopicReferralOwners   Topic = "taskole.referral-owners.v1"
	TopicCommissions      Topic = "taskole.commissions.v1"
	TopicPayouts          Topic = "taskole.payouts.v1"
	TopicDLQ              Topic = "taskole.dlq.v1"
	TopicPurchaseFacts    Topic = "taskole.purchase-facts.v1"
)

// Topics names every topic of the contract. The zero value of a field means its default;
// TopicsUnder puts them under a prefix (consumers/topology's one prefix mechanism).
type Topics struct {
	Enrollments      Topic
	Bookings         Topic
	Businesses       Topic
	Feedback         Topic
	AcquisitionCosts Topic
	RetentionCosts   Topic
	ReferralOwners   Topic
	Commissions      Topic
	Payouts          Topic
	DLQ              Topic
	PurchaseFacts    Topic
}

// WithDefaults returns t with every empty name replaced by its default.
func (t Topics) WithDefaults() Topics {
	def := func(v *Topic, d Topic) {
		if *v == "" {
			*v = d
		}
	}
	def(&t.Enrollments, TopicEnrollments)
	def(&t.Bookings, TopicBookings)
	def(&t.Businesses, TopicBusinesses)
	def(&t.Feedback, TopicFeedback)
	def(&t.AcquisitionCosts, TopicAcquisitionCosts)
	def(&t.RetentionCosts, TopicRetentionCosts)
	def(&t.ReferralOwners, TopicReferralOwners)
	def(&t.Commissions, TopicCommissions)
	def(&t.Payouts, TopicPayouts)
	def(&t.DLQ, TopicDLQ)
	def(&t.PurchaseFacts, TopicPurchaseFacts)
	return t
}

// TopicsUnder returns the default names, each prefixed by prefix: the one way a test or a
// tenant gets a namespace of its own (consumers/topology.New builds on it).
func TopicsUnder(prefix string) Topics {
	t := Topics{}.WithDefaults()
	for _, v := range []*Topic{&t.Enrollments, &t.Bookings, &t.Businesses, &t.Feedback,
		&t.AcquisitionCosts, &t.RetentionCosts, &t.ReferralOwners, &t.Commissions, &t.Payouts, &t.DLQ, &t.PurchaseFacts} {
		*v = Topic(prefix) + *v
	}
	return t
}
