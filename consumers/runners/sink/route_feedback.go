package sink

import "github.com/taskole/revshare/schemas"

// feedbackRows are the own columns of the feedback table (taskole.feedback.v1).
type feedbackRows struct {
	eventID, clientID, businessID strCol
	kind                          i8Col
	score                         u8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
}

func feedbackRoute(rc routeConfig) route {
	c := &feedbackRows{}
	return newRoute(rc, "feedback", []namedCol{
		{"event_id", &c.eventID}, {"client_id", &c.clientID}, {"business_id", &c.businessID},
		{"kind", &c.kind}, {"score", &c.score},
		{"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeFeedback, checkFeedback, c.add)
}

func feedbackKind(k schemas.FeedbackKind) (int8, bool) {
	switch k {
	case schemas.FeedbackNPS:
		return 1, true
	case schemas.FeedbackCSAT:
		return 2, true
	}
	return 0, false
}

func checkFeedback(v *schemas.Feedback) *schemas.InvalidError {
	if _, ok := feedbackKind(v.Kind); !ok {
		return invalidField("kind", "unknown kind %q", v.Kind)
	}
	if v.Score < 0 || v.Score > 10 {
		return outOfRange("score", "%d is outside 0..10", v.Score)
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *feedbackRows) add(v *schemas.Feedback) {
	k, _ := feedbackKind(v.Kind)
	c.eventID = append(c.eventID, v.EventID)
	c.clientID = append(c.clientID, v.ClientID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.kind = append(c.kind, k)
	c.score = append(c.score, uint8(v.Score))
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
