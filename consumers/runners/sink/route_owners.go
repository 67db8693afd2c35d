package sink

import "github.com/taskole/revshare/schemas"

// referralOwnerRows are the own columns of the referral_owners table
// (taskole.referral-owners.v1).
type referralOwnerRows struct {
	clientID, ownerBusinessID strCol
	ownedSince                timeCol
	ownedSinceNs              u32Col
	source                    i8Col
	eventID                   strCol
}

func referralOwnersRoute(rc routeConfig) route {
	c := &referralOwnerRows{}
	return newRoute(rc, "referral_owners", []namedCol{
		{"client_id", &c.clientID}, {"owner_business_id", &c.ownerBusinessID},
		{"owned_since", &c.ownedSince}, {"owned_since_ns", &c.ownedSinceNs},
		{"source", &c.source}, {"event_id", &c.eventID},
	}, schemas.DecodeReferralOwner, checkReferralOwner, c.add)
}

func ownerSource(s schemas.OwnerSource) (int8, bool) {
	switch s {
	case schemas.OwnerByEnrollment:
		return 1, true
	case schemas.OwnerByBooking:
		return 2, true
	}
	return 0, false
}

func checkReferralOwner(v *schemas.ReferralOwner) *schemas.InvalidError {
	if _, ok := ownerSource(v.Source); !ok {
		return invalidField("source", "unknown source %q", v.Source)
	}
	return checkTimeField("owned_since", v.OwnedSince)
}

func (c *referralOwnerRows) add(v *schemas.ReferralOwner) {
	src, _ := ownerSource(v.Source)
	c.clientID = append(c.clientID, v.ClientID)
	c.ownerBusinessID = append(c.ownerBusinessID, v.OwnerBusinessID)
	at, ns := secs(v.OwnedSince)
	c.ownedSince = append(c.ownedSince, at)
	c.ownedSinceNs = append(c.ownedSinceNs, ns)
	c.source = append(c.source, src)
	c.eventID = append(c.eventID, v.EventID)
}
