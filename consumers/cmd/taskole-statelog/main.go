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
// prints the size on disk of TOPIC's log segments.
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

// flags are the command's flags (each subcommand reads those it needs).
type flags struct {
	brokers, from, prefix, topic *string
	clients, partitions          *int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("taskole-statelog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := flags{
		brokers:    fs.String("kafka-brokers", env("TASKOLE_KAFKA_BROKERS", "127.0.0.1:9092"), "comma-separated seed brokers"),
		from:       fs.String("from", "", "generate: the real ledger changelog topic to take the states from"),
		prefix:     fs.String("to-prefix", "", "generate: topic prefix of the ledger changelog to write (its topics created by `taskole topics create`)"),
		clients:    fs.Int("clients", 0, "generate: clients to write"),
		partitions: fs.Int("partitions", 12, "partition count of the changelog written (size: of the topic)"),
		topic:      fs.String("topic", "", "size: the topic"),
	}
	sub := map[string]func(context.Context, flags, io.Writer) error{"generate": generate, "size": size}
	if len(args) == 0 || sub[args[0]] == nil {
		return fmt.Errorf("usage: taskole-statelog generate --from TOPIC --to-prefix PREFIX --clients N | size --topic TOPIC")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return sub[args[0]](ctx, f, stdout)
}

func (f flags) client(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(*f.brokers, ",")...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating the kafka client: %w", err)
	}
	return cl, nil
}

// size prints the size on disk of --topic.
func size(ctx context.Context, f flags, stdout io.Writer) error {
	if *f.topic == "" {
		return fmt.Errorf("want --topic")
	}
	cl, err := f.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	n, err := statelog.TopicBytes(ctx, cl, *f.topic, int32(*f.partitions))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "on disk %s: %d bytes\n", *f.topic, n)
	return nil
}

// generate writes --clients clients with the states of --from under --to-prefix.
func generate(ctx context.Context, f flags, stdout io.Writer) error {
	if *f.from == "" || *f.prefix == "" || *f.clients <= 0 || *f.partitions <= 0 {
		return fmt.Errorf("want --from, --to-prefix, --clients > 0 and --partitions > 0")
	}
	to := topology.New(*f.prefix).Name(topology.LedgerState)
	if to == *f.from {
		return fmt.Errorf("--to-prefix %q names the source changelog %s itself", *f.prefix, to)
	}
	cl, err := f.client(kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	t0 := time.Now()
	sample, err := statelog.ReadSample(ctx, cl, *f.from)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample %s: %d records read, %d clients, %d value bytes (%.1f B/client) in %.2fs\n",
		*f.from, sample.Records, len(sample.Values), sample.Bytes, float64(sample.Bytes)/float64(len(sample.Values)), time.Since(t0).Seconds())
	t0 = time.Now()
	w, err := statelog.Generate(ctx, cl, to, int32(*f.partitions), sample, *f.clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d records, %d key+value bytes in %.2fs\n", to, w.Records, w.Bytes, time.Since(t0).Seconds())
	n, err := statelog.TopicBytes(ctx, cl, to, int32(*f.partitions))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "on disk %s: %d bytes\n", to, n)
	return nil
}
