package stream

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// balancerProtocol names the group protocol of copartitioned. Every member of a group must
// offer it: a group of range-balanced (eager) members is migrated by stopping them all.
const balancerProtocol = "taskole-copartitioned-cooperative"

// copartitioned is a cooperative (KIP-429), sticky group balancer that assigns partition
// numbers, not topic partitions: partition n of every input goes to the member owning n, as
// the Processor's per-partition state requires. A member keeps what it owns up to its fair
// share, and only the partition numbers that must move change hands; kgo's AdjustCooperative
// holds a moving partition back for one rebalance round, until its previous owner has revoked
// it, so no partition is consumed by two members and the others never stop.
type copartitioned struct{}

var _ kgo.GroupBalancer = copartitioned{}

func (copartitioned) ProtocolName() string { return balancerProtocol }
func (copartitioned) IsCooperative() bool  { return true }

// JoinGroupMetadata is the standard consumer metadata (version 2: owned partitions and
// generation), which kgo's AdjustCooperative reads.
func (copartitioned) JoinGroupMetadata(interests []string, current map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 2
	meta.Topics = interests
	meta.Generation = generation
	for topic, ps := range current {
		o := kmsg.NewConsumerMemberMetadataOwnedPartition()
		o.Topic, o.Partitions = topic, slices.Sorted(slices.Values(ps))
		meta.OwnedPartitions = append(meta.OwnedPartitions, o)
	}
	sort.Slice(meta.OwnedPartitions, func(i, j int) bool { return meta.OwnedPartitions[i].Topic < meta.OwnedPartitions[j].Topic })
	return meta.AppendTo(nil)
}

func (copartitioned) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(assignment)
}

func (c copartitioned) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	b, err := kgo.NewConsumerBalancer(c, members)
	return b, b.MemberTopics(), err
}

// Balance runs on the group leader. kgo has sorted the members by instance id, then member id.
func (copartitioned) Balance(b *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	var n int32
	for _, c := range topics {
		n = max(n, c)
	}
	// A partition number claimed by several members (one missed a rebalance) belongs to the
	// claim of the highest generation; ties go to the first member.
	claim := map[int32]int{} // number → member index
	claimGen := map[int32]int32{}
	i := 0
	b.EachMember(func(_ *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		defer func() { i++ }()
		for _, o := range meta.OwnedPartitions {
			for _, p := range o.Partitions {
				if g, ok := claimGen[p]; p < n && (!ok || meta.Generation > g) {
					claim[p], claimGen[p] = i, meta.Generation
				}
			}
		}
	})
	owned := make([][]int32, len(b.Members()))
	for p := int32(0); p < n; p++ {
		if i, ok := claim[p]; ok {
			owned[i] = append(owned[i], p)
		}
	}
	plan := b.NewPlan()
	for i, nums := range assignNumbers(n, owned) {
		m, meta := b.MemberAt(i)
		for _, t := range meta.Topics {
			for _, p := range nums {
				if p < topics[t] {
					plan.AddPartition(m, t, p)
				}
			}
		}
	}
	plan.AdjustCooperative(b)
	return plan
}

// assignNumbers assigns the partition numbers 0..n-1 to len(owned) members: every number to
// exactly one member, shares differing by at most one, and every member keeping as many of
// the numbers it owns (owned[i], ascending, disjoint) as its share allows, the lowest first.
// The members that own the most get the larger shares, so a balanced group moves nothing.
func assignNumbers(n int32, owned [][]int32) [][]int32 {
	k := len(owned)
	if k == 0 {
		return nil
	}
	share := make([]int, k)
	base, extra := int(n)/k, int(n)%k
	order := make([]int, k) // members by owned count, descending; stable for determinism
	for i := range order {
		order[i], share[i] = i, base
	}
	sort.SliceStable(order, func(a, b int) bool { return len(owned[order[a]]) > len(owned[order[b]]) })
	for _, i := range order[:extra] {
		share[i]++
	}
	out := make([][]int32, k)
	taken := make([]bool, n)
	for i, nums := range owned {
		for _, p := range nums {
			if len(out[i]) == share[i] {
				break
			}
			if p >= 0 && p < n && !taken[p] {
				taken[p] = true
				out[i] = append(out[i], p)
			}
		}
	}
	i := 0
	for p := int32(0); p < n; p++ {
		if taken[p] {
			continue
		}
		for len(out[i]) == share[i] {
			i++
		}
		out[i] = append(out[i], p)
	}
	for i := range out {
		slices.Sort(out[i])
	}
	return out
}
