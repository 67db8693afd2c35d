package simulate

import (
	"fmt"
	"io"
	"sort"

	"github.com/taskole/revshare/schemas"
)

// Stats counts what a Generator yielded. Records = valid events + malformed + duplicates.
// The marketplace counts (clients … rejected claims) cover the batches generated so far; at
// the end of the stream both agree.
type Stats struct {
	Records   int64                   // records yielded
	Bytes     int64                   // total value bytes
	ByTopic   map[schemas.Topic]int64 // records per (default) topic name
	Malformed map[MalformedKind]int64 // malformed records per kind
	// MalformedByTopic counts malformed records per topic; with Stateful() it tells how many
	// dead letters a consumer of some of the topics must write.
	MalformedByTopic map[schemas.Topic]map[MalformedKind]int64
	Duplicates       int64 // re-deliveries of valid events (same bytes, same event_id)

	Clients         int64 // clients that joined
	Bookings        int64 // distinct bookings (valid lifecycles)
	Completed       int64 // bookings that reached completed
	Instant         int64 // bookings that went created → completed (confirmed skipped)
	CrossBusiness   int64 // completed bookings at a business that is not the client's owner
	Cancellations   int64 // bookings cancelled (before or after completion)
	Refunds         int64 // refunded events
	RateChanges     int64 // announced referral-rate changes
	LateEnrollments int64 // enrollments delivered a batch after the client's bookings
	LateBookings    int64 // bookings delivered after later bookings of the same client
	RejectedClaims  int64 // enrollments by a second business (R1: must be rejected)
	RetentionCosts  int64 // valid retention-cost events (loyalty discounts, free services, …)
	// RetentionAttributed counts the retention-cost events that name a client.
	RetentionAttributed int64
}

// DeadLetters is the number of dead-letter records a consumer reading the given topics must
// write: every malformed record of those topics, the stateful kinds only when the consumer
// tracks booking lifecycles.
func (s Stats) DeadLetters(stateful bool, topics ...schemas.Topic) int64 {
	var n int64
	for _, t := range topics {
		for k, v := range s.MalformedByTopic[t] {
			if stateful || !k.Stateful() {
				n += v
			}
		}
	}
	return n
}

// MalformedTotal is the number of malformed records of every kind.
func (s Stats) MalformedTotal() int64 {
	var n int64
	for _, v := range s.Malformed {
		n += v
	}
	return n
}

// Write prints s as aligned "name value" lines.
func (s Stats) Write(w io.Writer) error {
	line := func(name string, v int64) string { return fmt.Sprintf("  %-24s %12d\n", name, v) }
	out := "records\n" + line("total", s.Records)
	topics := make([]string, 0, len(s.ByTopic))
	for t := range s.ByTopic {
		topics = append(topics, string(t))
	}
	sort.Strings(topics)
	for _, t := range topics {
		out += line(t, s.ByTopic[schemas.Topic(t)])
	}
	out += line("bytes", s.Bytes) + line("duplicates", s.Duplicates)
	out += "malformed\n"
	for _, k := range MalformedKinds {
		out += line(string(k), s.Malformed[k])
	}
	out += "marketplace\n" + line("clients joined", s.Clients) + line("bookings", s.Bookings) +
		line("completed", s.Completed) + line("created → completed", s.Instant) + line("cross-business", s.CrossBusiness) +
		line("cancellations", s.Cancellations) + line("refunds", s.Refunds) +
		line("rate changes", s.RateChanges) + line("late enrollments", s.LateEnrollments) +
		line("late bookings", s.LateBookings) + line("rejected claims", s.RejectedClaims) +
		line("retention costs", s.RetentionCosts) + line("  naming a client", s.RetentionAttributed)
	_, err := io.WriteString(w, out)
	return err
}

// inputTopics are the six input topics, in the order of the counters arrays.
var inputTopics = [...]schemas.Topic{schemas.TopicEnrollments, schemas.TopicBookings,
	schemas.TopicBusinesses, schemas.TopicFeedback, schemas.TopicAcquisitionCosts, schemas.TopicRetentionCosts}

type counters struct {
	records, bytes, duplicates                                          int64
	byTopic                                                             [len(inputTopics)]int64
	malformed                                                           [len(inputTopics)][7]int64
	clients, bookings, completed, cross, cancellations, instant         int64
	refunds, rateChanges, lateEnrollments, lateBookings, rejectedClaims int64
	retentionCosts, retentionAttributed                                 int64
}

func (c *counters) count(e Event) {
	c.records++
	c.bytes += int64(len(e.Value))
	for i, t := range inputTopics {
		if t == e.Topic {
			c.byTopic[i]++
			break
		}
	}
	if e.Duplicate {
		c.duplicates++
	}
	if e.Malformed != "" {
		for i, t := range inputTopics {
			if t != e.Topic {
				continue
			}
			for j, k := range MalformedKinds {
				if k == e.Malformed {
					c.malformed[i][j]++
				}
			}
		}
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Records: c.records, Bytes: c.bytes, Duplicates: c.duplicates,
		ByTopic:   make(map[schemas.Topic]int64, len(inputTopics)),
		Malformed: make(map[MalformedKind]int64, len(MalformedKinds)),
		Clients:   c.clients, Bookings: c.bookings, Completed: c.completed, Instant: c.instant, CrossBusiness: c.cross,
		Cancellations: c.cancellations, Refunds: c.refunds, RateChanges: c.rateChanges,
		LateEnrollments: c.lateEnrollments, LateBookings: c.lateBookings, RejectedClaims: c.rejectedClaims,
		RetentionCosts: c.retentionCosts, RetentionAttributed: c.retentionAttributed,
	}
	s.MalformedByTopic = make(map[schemas.Topic]map[MalformedKind]int64, len(inputTopics))
	for i, t := range inputTopics {
		s.ByTopic[t] = c.byTopic[i]
		s.MalformedByTopic[t] = make(map[MalformedKind]int64, len(MalformedKinds))
		for j, k := range MalformedKinds {
			s.MalformedByTopic[t][k] = c.malformed[i][j]
			s.Malformed[k] += c.malformed[i][j]
		}
	}
	return s
}
