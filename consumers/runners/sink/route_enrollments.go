package sink

import "github.com/taskole/revshare/schemas"

// enrollmentRows are the own columns of the enrollments table (taskole.enrollments.v1).
type enrollmentRows struct {
	eventID, clientID, businessID strCol
	source                        i8Col
	occurredAt                    timeCol
	occurredNs                    u32Col
}

func enrollmentsRoute(rc routeConfig) route {
	c := &enrollmentRows{}
	return newRoute(rc, "enrollments", []namedCol{
		{"event_id", &c.eventID}, {"client_id", &c.clientID}, {"business_id", &c.businessID},
		{"source", &c.source}, {"occurred_at", &c.occurredAt}, {"occurred_at_ns", &c.occurredNs},
	}, rc.bounds.DecodeEnrollment, checkEnrollment, c.add)
}

func enrollmentSource(s string) (int8, bool) {
	switch s {
	case "":
		return 0, true
	case "import":
		return 1, true
	case "invite":
		return 2, true
	case "qr":
		return 3, true
	}
	return 0, false
}

func checkEnrollment(v *schemas.Enrollment) *schemas.InvalidError {
	if _, ok := enrollmentSource(v.Source); !ok {
		return invalidField("source", "unknown source %q", v.Source)
	}
	return checkTimeField("occurred_at", v.OccurredAt)
}

func (c *enrollmentRows) add(v *schemas.Enrollment) {
	src, _ := enrollmentSource(v.Source)
	c.eventID = append(c.eventID, v.EventID)
	c.clientID = append(c.clientID, v.ClientID)
	c.businessID = append(c.businessID, v.BusinessID)
	c.source = append(c.source, src)
	at, ns := secs(v.OccurredAt)
	c.occurredAt = append(c.occurredAt, at)
	c.occurredNs = append(c.occurredNs, ns)
}
