package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
)

func topicsCommand() command {
	const summary = "topics create: create every topic of the topology with its partitions and cleanup policy; topics describe: print the topology"
	return command{
		name:    "topics",
		summary: summary,
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				newFlags("topics create|describe", summary).Usage()
				return nil
			}
			if len(args) == 0 || (args[0] != "create" && args[0] != "describe") {
				return fmt.Errorf("usage: taskole topics create|describe [flags]: %w", errUsage)
			}
			if args[0] == "describe" {
				fs := newFlags("topics describe", summary)
				var c common
				c.register(fs, "")
				if err := parseFlags(fs, args[1:]); err != nil {
					return err
				}
				return topology.New(c.topicPrefix).Describe(os.Stdout)
			}
			return createTopics(ctx, args[1:], summary)
		},
	}
}

// createTopics runs `taskole topics create`.
func createTopics(ctx context.Context, args []string, summary string) error {
	fs := newFlags("topics", summary)
	var c common
	c.register(fs, "")
	partitions := fs.Int("partitions", 12, "partition count of every topic")
	rf := fs.Int("replication-factor", 0, "replication factor of every topic (0: the broker's default.replication.factor; 3 on a cluster)")
	minISR := fs.Int("min-insync-replicas", 0, "min.insync.replicas of every topic (0: the broker's default; 2 with RF 3)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := c.logger("topics")
	if err != nil {
		return err
	}
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
			for k, v := range specs[i].Configs {
				cfg[k] = v
			}
			specs[i].Configs = cfg
		}
	}
	if err := stream.EnsureTopics(ctx, cl, specs, tp.CoPartitioned()...); err != nil {
		return err
	}
	for _, s := range specs {
		log.Info("topic ready", "topic", s.Name, "partitions", s.Partitions, "compact", s.Compact, "replication_factor", s.ReplicationFactor)
	}
	return nil
}

// contractTopics lists every topic of the topology: those of SPEC §4 and the runners'
// internal ones, owner and state topics compacted, the rest with cleanup.policy=delete.
func contractTopics(tp topology.Topology, partitions int32) []stream.TopicSpec {
	return tp.Specs(partitions)
}
