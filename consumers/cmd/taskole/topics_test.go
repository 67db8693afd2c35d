package main

import (
	"testing"

	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/schemas"
)

// TestContractTopics: `taskole topics create` makes every topic of SPEC §4 (inputs, outputs,
// dead letters), the input and output event topics not compacted, referral owners compacted.
func TestContractTopics(t *testing.T) {
	t.Parallel()
	specs := contractTopics(topology.New("x."), 6)
	got := map[string]bool{}
	compact := map[string]bool{}
	for _, s := range specs {
		got[s.Name] = true
		compact[s.Name] = s.Compact
		if s.Partitions != 6 {
			t.Errorf("%s: %d partitions, want 6", s.Name, s.Partitions)
		}
	}
	for _, tp := range []schemas.Topic{schemas.TopicEnrollments, schemas.TopicBookings, schemas.TopicBusinesses,
		schemas.TopicFeedback, schemas.TopicAcquisitionCosts, schemas.TopicRetentionCosts, schemas.TopicReferralOwners,
		schemas.TopicCommissions, schemas.TopicPayouts, schemas.TopicDLQ, schemas.TopicPurchaseFacts} {
		name := "x." + string(tp)
		if !got[name] {
			t.Errorf("topics create lacks %s", name)
		}
		if want := tp == schemas.TopicReferralOwners; compact[name] != want {
			t.Errorf("%s: compact %v, want %v", name, compact[name], want)
		}
	}
}
