// Command taskole-statelog writes a synthetic ledger changelog (package
// consumers/tools/statelog) for the state-size and restore benchmark of `make bench`:
//
//	taskole-statelog generate --from SOURCE_CHANGELOG --to-prefix PREFIX --clients N
//
// reads the real changelog SOURCE_CHANGELOG to its end, then writes N clients with its
// states to the ledger changelog under PREFIX (created beforehand by `taskole topics
// create`), and prints what it read and wrote and the changelog's size on disk;
//
//	taskole-statelog size --topic TOPIC
//
// prints the size on disk of TOPIC's log segments;
//
//	taskole-statelog kick --topic TOPIC
//
// produces one malformed record to TOPIC (an input of the ledger, which dead-letters it and
// keeps no state for it): an idle ledger updates its state gauges
// (taskole_stream_state_keys, _bytes) after a restore only once a fetch wakes it.
// Bench-only: deploy/local/bench-scale.sh builds it into bin/taskole-statelog; it is not part
// of the taskole binary. Flags also read TASKOLE_KAFKA_BROKERS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/tools/statelog"
	"github.com/taskole/revshare/consumers/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "taskole-statelog: %v\n", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("taskole-statelog generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("kafka-brokers", env("TASKOLE_KAFKA_BROKERS", "127.0.0.1:9092"), "comma-separated seed brokers")
	from := fs.String("from", "", "the real ledger changelog topic to take the states from")
	prefix := fs.String("to-prefix", "", "topic prefix of the ledger changelog to write (its topics created by `taskole topics create`)")
	clients := fs.Int("clients", 0, "clients to write")
	partitions := fs.Int("partitions", 12, "partition count of the changelog written (size: of the topic)")
	topic := fs.String("topic", "", "size: the topic to measure")
	if len(args) == 0 || (args[0] != "generate" && args[0] != "size" && args[0] != "kick") {
		return fmt.Errorf("usage: taskole-statelog generate --from TOPIC --to-prefix PREFIX --clients N | size --topic TOPIC | kick --topic TOPIC")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "kick" {
		if *topic == "" {
			return fmt.Errorf("want --topic")
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...))
		if err != nil {
			return fmt.Errorf("creating the kafka client: %w", err)
		}
		defer cl.Close()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: *topic, Key: []byte("statelog-kick"), Value: []byte("statelog kick: not an event")}).FirstErr(); err != nil {
			return fmt.Errorf("producing the kick record: %w", err)
		}
		return nil
	}
	if args[0] == "size" {
		if *topic == "" {
			return fmt.Errorf("want --topic")
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...))
		if err != nil {
			return fmt.Errorf("creating the kafka client: %w", err)
		}
		defer cl.Close()
		n, err := statelog.TopicBytes(ctx, cl, *topic, int32(*partitions))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "on disk %s: %d bytes\n", *topic, n)
		return nil
	}
	if *from == "" || *prefix == "" || *clients <= 0 || *partitions <= 0 {
		return fmt.Errorf("want --from, --to-prefix, --clients > 0 and --partitions > 0")
	}
	to := topology.New(*prefix).Name(topology.LedgerState)
	if to == *from {
		return fmt.Errorf("--to-prefix %q names the source changelog %s itself", *prefix, to)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return fmt.Errorf("creating the kafka client: %w", err)
	}
	defer cl.Close()
	t0 := time.Now()
	sample, err := statelog.ReadSample(ctx, cl, *from)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample %s: %d records read, %d clients, %d value bytes (%.1f B/client) in %.2fs\n",
		*from, sample.Records, len(sample.Values), sample.Bytes, float64(sample.Bytes)/float64(len(sample.Values)), time.Since(t0).Seconds())
	t0 = time.Now()
	w, err := statelog.Generate(ctx, cl, to, int32(*partitions), sample, *clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d records, %d key+value bytes in %.2fs\n", to, w.Records, w.Bytes, time.Since(t0).Seconds())
	n, err := statelog.TopicBytes(ctx, cl, to, int32(*partitions))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "on disk %s: %d bytes\n", to, n)
	return nil
}
