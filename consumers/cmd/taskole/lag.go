package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/topology"
)

const lagSummary = "prints consumer-group lag; with --wait, blocks until the groups have caught up"

func lagCommand() command {
	return command{name: "lag", summary: lagSummary, flags: lagFlags, help: lagSummary + `.

--wait is a completeness barrier, in rounds: it snapshots the end offsets of every topic
the groups consume (once no transaction is open on them), waits until every group's
committed offsets pass them, then snapshots again — what the groups wrote meanwhile, e.g.
the ledger's commissions for payouts and the sink — until a round finds nothing new. A
committed offset passes an end offset when it reaches it, or stops just below it at a
transaction marker. So it returns only once everything written before it started, and
everything written in response, is consumed and committed.`}
}

// lagFlags registers the flags of `taskole lag`.
func lagFlags(fs *flag.FlagSet) action {
	groups := fs.String("groups", defaultGroups(), "comma-separated consumer groups (--topic-prefix is prepended)")
	wait := fs.Bool("wait", false, "poll until caught up")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --wait: give up after this long")
	fs.Int("stable", 0, "ignored: the barrier needs no quiet polls (kept for older scripts)")
	return func(ctx context.Context, c *common) error {
		cl, err := c.newKafkaClient()
		if err != nil {
			return err
		}
		defer cl.Close()
		names := prefixed(c.topicPrefix, *groups)
		if !*wait {
			return printLag(ctx, kadm.NewClient(cl), names)
		}
		return waitLag(ctx, c, cl, names, *timeout)
	}
}

// waitLag waits (at most timeout) until the groups names have caught up (the barrier) and
// prints their lag.
func waitLag(ctx context.Context, c *common, cl *kgo.Client, names []string, timeout time.Duration) error {
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	conn, err := c.kafkaOpts()
	if err != nil {
		return err
	}
	if err := newBarrier(cl, conn, names).wait(ctx, logf); err != nil {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, report, _ := groupLag(rctx, adm, names)
		rcancel()
		return fmt.Errorf("waiting for groups to catch up: %w (last:\n%s)", err, report)
	}
	return printLag(ctx, adm, names)
}

// printLag prints the lag of the groups names.
func printLag(ctx context.Context, adm *kadm.Client, names []string) error {
	_, report, err := groupLag(ctx, adm, names)
	if err != nil {
		return err
	}
	fmt.Print(report)
	return nil
}

// groupLag returns a signature of the committed offsets (empty while any partition is more
// than one record behind) and a printable report.
func groupLag(ctx context.Context, adm *kadm.Client, groups []string) (sig, report string, err error) {
	// kadm reorders the slice it is given; keep ours intact.
	lags, err := adm.Lag(ctx, slices.Clone(groups)...)
	if err != nil {
		return "", "", fmt.Errorf("describing group lag: %w", err)
	}
	var b, s strings.Builder
	behind := false
	for _, g := range groups {
		l, ok := lags[g]
		if !ok || l.Error() != nil || len(l.Lag) == 0 {
			behind = true
			fmt.Fprintf(&b, "%-32s not found yet\n", g)
			continue
		}
		var total int64
		rows := l.Lag.Sorted()
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Topic != rows[j].Topic {
				return rows[i].Topic < rows[j].Topic
			}
			return rows[i].Partition < rows[j].Partition
		})
		for _, r := range rows {
			if r.Err != nil || r.Lag < 0 || r.Lag > 1 {
				behind = true
			}
			if r.Lag > 0 {
				total += r.Lag
			}
			fmt.Fprintf(&s, "%s/%s/%d=%d;", g, r.Topic, r.Partition, r.Commit.At)
		}
		fmt.Fprintf(&b, "%-32s lag %d over %d partitions\n", g, total, len(rows))
	}
	if behind {
		return "", b.String(), nil
	}
	return s.String(), b.String(), nil
}

const resetSummary = "deletes the topics under --topic-prefix, their consumer groups and the ClickHouse database (demo and tests)"

func resetCommand() command {
	return command{name: "reset", summary: resetSummary, flags: resetFlags, help: resetSummary + `.

Refuses an empty --topic-prefix and the default database names, so it cannot wipe a real
deployment by accident.`}
}

// resetFlags registers the flags of `taskole reset`.
func resetFlags(fs *flag.FlagSet) action {
	groups := fs.String("groups", defaultGroups(), "consumer groups to delete (--topic-prefix is prepended)")
	return func(ctx context.Context, c *common) error {
		if c.topicPrefix == "" {
			return errors.New("refusing to reset without --topic-prefix")
		}
		if c.chDatabase == "" || c.chDatabase == "taskole" || c.chDatabase == "default" || c.chDatabase == "system" {
			return fmt.Errorf("refusing to drop database %q: pass a dedicated --clickhouse-database", c.chDatabase)
		}
		cl, err := c.newKafkaClient()
		if err != nil {
			return err
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		names := prefixed(c.topicPrefix, *groups)
		if err := deleteGroups(ctx, adm, names); err != nil {
			return err
		}
		doomed, err := deleteTopicsUnder(ctx, adm, c.topicPrefix)
		if err != nil {
			return err
		}
		if err := dropDatabase(ctx, c, c.chDatabase); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "reset: deleted %d topics under %q, groups %v, database %s\n", len(doomed), c.topicPrefix, names, c.chDatabase)
		return nil
	}
}

// deleteGroups deletes the consumer groups names. A group that never existed (or a broker
// that never had a group) is fine; a group with live members is not, and Kafka refuses that
// deletion itself.
func deleteGroups(ctx context.Context, adm *kadm.Client, names []string) error {
	resp, err := adm.DeleteGroups(ctx, names...)
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) {
			return fmt.Errorf("deleting group %s: %w", r.Group, r.Err)
		}
	}
	if err != nil && !errors.Is(err, kerr.CoordinatorNotAvailable) {
		return fmt.Errorf("deleting groups: %w", err)
	}
	return nil
}

// deleteTopicsUnder deletes every topic whose name starts with prefix, waits until they are
// gone and returns their names.
func deleteTopicsUnder(ctx context.Context, adm *kadm.Client, prefix string) ([]string, error) {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	var doomed []string
	for _, t := range topics.Names() {
		if strings.HasPrefix(t, prefix) {
			doomed = append(doomed, t)
		}
	}
	if len(doomed) == 0 {
		return nil, nil
	}
	resp, err := adm.DeleteTopics(ctx, doomed...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("deleting topics: %w", err)
	}
	return doomed, waitTopicsGone(ctx, adm, doomed)
}

func waitTopicsGone(ctx context.Context, adm *kadm.Client, topics []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		listed, err := adm.ListTopics(ctx, topics...)
		if err == nil {
			left := 0
			for _, d := range listed {
				if d.Err == nil {
					left++
				}
			}
			if left == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic deletion: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// prefixed splits a comma-separated list and puts prefix before every non-empty item.
func prefixed(prefix, list string) []string {
	var out []string
	for _, g := range strings.Split(list, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, prefix+g)
		}
	}
	return out
}

// defaultGroups lists the runners' consumer groups of the topology, unprefixed.
func defaultGroups() string { return strings.Join(topology.Topology{}.Groups(), ",") }
