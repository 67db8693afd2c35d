package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"strconv"
	"time"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
)

const topicsSummary = "topics create: create every topic of the topology with its partitions and cleanup policy; topics describe: print the topology"

func topicsCommand() command {
	return command{name: "topics", summary: topicsSummary, run: runTopics}
}

// runTopics runs `taskole topics create|describe`.
func runTopics(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		newFlags("topics create|describe", topicsSummary).Usage()
		return nil
	}
	switch {
	case len(args) > 0 && args[0] == "describe":
		return command{name: "topics describe", summary: topicsSummary, flags: describeTopics}.exec(ctx, args[1:])
	case len(args) > 0 && args[0] == "create":
		return command{name: "topics", summary: topicsSummary, flags: createTopics}.exec(ctx, args[1:])
	}
	return fmt.Errorf("usage: taskole topics create|describe [flags]: %w", errUsage)
}

// describeTopics registers the flags of `taskole topics describe`.
func describeTopics(*flag.FlagSet) action {
	return func(_ context.Context, c *common) error { return topology.New(c.topicPrefix).Describe(os.Stdout) }
}

// createTopics registers the flags of `taskole topics create`.
func createTopics(fs *flag.FlagSet) action {
	partitions := fs.Int("partitions", 12, "partition count of every topic")
	rf := fs.Int("replication-factor", 0, "replication factor of every topic (0: the broker's default.replication.factor; 3 on a cluster)")
	minISR := fs.Int("min-insync-replicas", 0, "min.insync.replicas of every topic (0: the broker's default; 2 with RF 3)")
	return func(ctx context.Context, c *common) error {
		if *rf < 0 || *rf > 32767 || *minISR < 0 || (*rf > 0 && *minISR > *rf) {
			return fmt.Errorf("want 0 <= --min-insync-replicas <= --replication-factor, got %d and %d", *minISR, *rf)
		}
		cl, err := c.newKafkaClient()
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		tp := topology.New(c.topicPrefix)
		specs := contractTopics(tp, int32(*partitions))
		for i := range specs {
			specs[i].ReplicationFactor = int16(*rf)
			if *minISR > 0 {
				cfg := map[string]string{"min.insync.replicas": strconv.Itoa(*minISR)}
				maps.Copy(cfg, specs[i].Configs)
				specs[i].Configs = cfg
			}
		}
		if err := stream.EnsureTopics(ctx, cl, specs, tp.CoPartitioned()...); err != nil {
			return err
		}
		for _, s := range specs {
			c.log.Info("topic ready", "topic", s.Name, "partitions", s.Partitions, "compact", s.Compact, "replication_factor", s.ReplicationFactor)
		}
		return nil
	}
}

// contractTopics lists every topic of the topology: those of SPEC §4 and the runners'
// internal ones, owner and state topics compacted, the rest with cleanup.policy=delete.
func contractTopics(tp topology.Topology, partitions int32) []stream.TopicSpec {
	return tp.Specs(partitions)
}
