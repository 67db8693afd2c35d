package stream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec is a topic a component needs: created with Partitions and Configs when missing.
type TopicSpec struct {
	Name       string
	Partitions int32 // 0: the broker's default
	Compact    bool  // cleanup.policy=compact (else delete)
	// ReplicationFactor of the created topic; 0: the broker's default.replication.factor
	// (1 on the single local node, 3 on deploy/local's cluster).
	ReplicationFactor int16
	Configs           map[string]string // extra topic configs
}

// EnsureTopics creates the missing topics of specs (replication factor: the spec's, else the
// broker's default; min.insync.replicas: Configs, else the broker's default)
// and then checks that every group of co-partitioned topics has one partition count; it
// returns a clear error when they differ, because keyed joins would then silently break.
// Existing topics are left as they are.
func EnsureTopics(ctx context.Context, cl *kgo.Client, specs []TopicSpec, copartitioned ...[]string) error {
	adm := kadm.NewClient(cl)
	for _, s := range specs {
		cfg := map[string]*string{"cleanup.policy": kadm.StringPtr("delete")}
		if s.Compact {
			cfg["cleanup.policy"] = kadm.StringPtr("compact")
		}
		for k, v := range s.Configs {
			cfg[k] = kadm.StringPtr(v)
		}
		parts := s.Partitions
		if parts == 0 {
			parts = -1
		}
		rf := s.ReplicationFactor
		if rf == 0 {
			rf = -1
		}
		_, err := adm.CreateTopic(ctx, parts, rf, cfg, s.Name)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", s.Name, err)
		}
	}
	return CheckCopartitioned(ctx, cl, copartitioned...)
}

// CheckCopartitioned returns an error naming the partition counts when the topics of a group
// differ in partition count, or when a topic does not exist.
func CheckCopartitioned(ctx context.Context, cl *kgo.Client, groups ...[]string) error {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	if len(all) == 0 {
		return nil
	}
	// Freshly created topics take a moment to show up in metadata.
	var details kadm.TopicDetails
	for deadline := time.Now().Add(15 * time.Second); ; {
		var err error
		details, err = kadm.NewClient(cl).ListTopics(ctx, all...)
		if err != nil {
			return fmt.Errorf("describing topics: %w", err)
		}
		missing := false
		for _, t := range all {
			d, ok := details[t]
			missing = missing || !ok || d.Err != nil || len(d.Partitions) == 0
		}
		if !missing || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var errs []error
	for _, g := range groups {
		counts := map[int][]string{}
		for _, t := range g {
			d, ok := details[t]
			if !ok || d.Err != nil {
				errs = append(errs, fmt.Errorf("topic %s does not exist: %w", t, d.Err))
				continue
			}
			counts[len(d.Partitions)] = append(counts[len(d.Partitions)], t)
		}
		if len(counts) > 1 {
			var desc []string
			for n, ts := range counts {
				desc = append(desc, fmt.Sprintf("%s: %d", strings.Join(ts, ", "), n))
			}
			sort.Strings(desc)
			errs = append(errs, fmt.Errorf("co-partitioned topics have different partition counts (%s); keys would land on different partitions — recreate them with one count", strings.Join(desc, "; ")))
		}
	}
	return errors.Join(errs...)
}
