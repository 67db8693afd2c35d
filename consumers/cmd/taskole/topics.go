package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

func topicsCommand() command {
	const summary = "topics create: create every contract topic (and the ledger changelog) with its partitions and cleanup policy"
	return command{
		name:    "topics",
		summary: summary,
		run: func(ctx context.Context, args []string) error {
			if len(args) == 0 || args[0] != "create" {
				if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
					newFlags("topics create", summary).Usage()
					return nil
				}
				return fmt.Errorf("usage: taskole topics create [flags]: %w", errUsage)
			}
			fs := newFlags("topics", summary)
			var c common
			c.register(fs, "")
			partitions := fs.Int("partitions", 12, "partition count of every topic")
			rf := fs.Int("replication-factor", 0, "replication factor of every topic (0: the broker's default.replication.factor; 3 on a cluster)")
			minISR := fs.Int("min-insync-replicas", 0, "min.insync.replicas of every topic (0: the broker's default; 2 with RF 3)")
			if err := parseFlags(fs, args[1:]); err != nil {
				return err
			}
			log, err := c.logger("topics")
			if err != nil {
				return err
			}
			cl, err := c.newKafkaClient()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if *rf < 0 || *rf > 32767 || *minISR < 0 || (*rf > 0 && *minISR > *rf) {
				return fmt.Errorf("want 0 <= --min-insync-replicas <= --replication-factor, got %d and %d", *minISR, *rf)
			}
			specs := contractTopics(schemas.Topics{}.WithPrefix(c.topicPrefix), int32(*partitions))
			for i := range specs {
				specs[i].ReplicationFactor = int16(*rf)
				if *minISR > 0 {
					cfg := map[string]string{"min.insync.replicas": strconv.Itoa(*minISR)}
					for k, v := range specs[i].Configs {
						cfg[k] = v
					}
					specs[i].Configs = cfg
				}
			}
			t := schemas.Topics{}.WithPrefix(c.topicPrefix)
			changelog := ledger.ChangelogFor(t)
			if err := stream.EnsureTopics(ctx, cl, specs,
				append(ledger.ConsumedTopics(t, ledger.RepartitionFor(t)), string(t.Feedback), string(t.ReferralOwners), changelog)); err != nil {
				return err
			}
			for _, s := range specs {
				log.Info("topic ready", "topic", s.Name, "partitions", s.Partitions, "compact", s.Compact, "replication_factor", s.ReplicationFactor)
			}
			return nil
		},
	}
}

// contractTopics lists every topic of SPEC §4 plus the ledger changelog: owner and state
// topics compacted, the rest with cleanup.policy=delete.
func contractTopics(t schemas.Topics, partitions int32) []stream.TopicSpec {
	t = t.WithDefaults()
	specs := ledger.Topics(t, ledger.ChangelogFor(t), partitions)
	for _, name := range []schemas.Topic{t.Feedback, t.AcquisitionCosts, t.RetentionCosts, t.Payouts} {
		specs = append(specs, stream.TopicSpec{Name: string(name), Partitions: partitions})
	}
	return specs
}
