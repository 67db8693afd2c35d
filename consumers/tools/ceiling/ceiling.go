// Package ceiling measures what consuming the ledger's inputs costs before any ledger logic:
// the ceilings `make bench` (deploy/local/bench.sh) divides the ledger's CPU time by. It is
// bench-only (built into bin/taskole-ceiling by the bench, not part of the taskole binary).
//
//   - Stream runs the project's own exactly-once framework (consumers/stream) over the
//     ledger's input topics with a handler that does nothing: the merge, the transactions,
//     the offset commits, the changelog machinery without a key in it.
//   - PassThrough is bare franz-go: a GroupTransactSession that consumes the same inputs and
//     produces every record unchanged (same partition, key, value and headers) to one output
//     topic, committing a transaction every CommitInterval or MaxBatchRecords records like
//     the stream processor's defaults.
//
// Both count the input records they committed in taskole_stream_records_in_total (the
// metric bench.sh samples for every consumer), so the bench measures them like the ledger.
package ceiling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

// Topic names under the topic prefix; the groups are prefixed like every other group.
const (
	StreamGroup      = "taskole-ceiling-stream"
	PassThroughGroup = "taskole-ceiling-passthrough"
	streamChangelog  = "taskole.ceiling-state.v1"
	streamRepart     = "taskole.ceiling-repartition.v1"
	passThroughOut   = "taskole.ceiling-out.v1"
)

// Config configures both ceilings. The zero value of every field but Brokers is its default.
type Config struct {
	Brokers     []string
	TopicPrefix string
	// GroupSuffix is appended to the group and transactional id (a fresh group per run).
	GroupSuffix string
	// Partitions of the topics created when missing (the ceiling's own; the inputs exist).
	Partitions int32
	// CommitInterval and MaxBatchRecords of PassThrough's transactions; default the stream
	// processor's.
	CommitInterval  time.Duration
	MaxBatchRecords int
	Logger          *slog.Logger
	Registry        prometheus.Registerer // nil: no metrics
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, errors.New("ceiling config: no brokers")
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = stream.DefaultCommitInterval
	}
	if c.MaxBatchRecords == 0 {
		c.MaxBatchRecords = stream.DefaultMaxBatchRecords
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func (c Config) topics() schemas.Topics { return schemas.TopicsUnder(c.TopicPrefix) }

// noop is a stream.Handler that handles every record by doing nothing.
type noop struct{}

func (noop) Handle(context.Context, *kgo.Record, *stream.Tx[struct{}]) error { return nil }
func (noop) AppendState(dst []byte, _ *struct{}) ([]byte, error)             { return dst, nil }
func (noop) UnmarshalState(*struct{}, []byte) error                          { return nil }
func (noop) EmptyState(*struct{}) bool                                       { return true }

// Stream is the framework ceiling: the stream processor with a no-op handler over the
// ledger's inputs.
type Stream struct {
	cfg   Config
	admin *kgo.Client
	proc  *stream.Processor[struct{}]
	specs []stream.TopicSpec
	co    []string
}

// NewStream validates cfg and creates the processor; Run starts it.
func NewStream(cfg Config) (*Stream, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t := cfg.topics()
	changelog, repart := cfg.TopicPrefix+streamChangelog, cfg.TopicPrefix+streamRepart
	inputs := ledger.InputTopics(t)
	s := &Stream{cfg: cfg,
		specs: []stream.TopicSpec{
			{Name: changelog, Partitions: cfg.Partitions, Compact: true},
			{Name: repart, Partitions: cfg.Partitions},
		},
		co: append([]string{changelog, repart}, inputs...)}
	s.admin, err = kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	s.proc, err = stream.New(stream.Config{
		Brokers:         cfg.Brokers,
		Name:            "ceiling",
		Group:           cfg.TopicPrefix + StreamGroup + cfg.GroupSuffix,
		TransactionalID: cfg.TopicPrefix + StreamGroup + cfg.GroupSuffix + "-bench",
		Inputs:          inputs,
		Repartition:     repart,
		Changelog:       changelog,
		DLQ:             string(t.DLQ),
		LazyRestore:     true,
		LeaveOnClose:    true,
		Logger:          cfg.Logger,
		Registry:        cfg.Registry,
	}, noop{})
	if err != nil {
		s.admin.Close()
		return nil, err
	}
	return s, nil
}

// Ready reports whether the processor has joined and restored its partitions.
func (s *Stream) Ready() bool { return s.proc.Ready() }

// Run creates the ceiling's own topics when missing and processes until ctx ends (nil).
func (s *Stream) Run(ctx context.Context) error {
	if err := stream.EnsureTopics(ctx, s.admin, s.specs, s.co); err != nil {
		return fmt.Errorf("preparing topics: %w", err)
	}
	if err := s.proc.Run(ctx); err != nil {
		return fmt.Errorf("running the no-op processor: %w", err)
	}
	return nil
}

// Close releases the clients.
func (s *Stream) Close() {
	s.proc.Close()
	s.admin.Close()
}
