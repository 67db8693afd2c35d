package stream

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config configures a Processor. The zero value of every field but Brokers, Name, Group,
// Inputs and Changelog means its default; New validates it once.
type Config struct {
	Brokers []string // seed brokers (required)
	Name    string   // consumer name: written to dead letters, metric label (required)
	Group   string   // consumer group (required)
	// TransactionalID must be unique per running instance and stable across its restarts
	// (a restarted instance fences its predecessor). Default: Group + "-" + Name.
	TransactionalID string
	// InstanceID is the static group membership id (Kafka's group.instance.id), unique per
	// running instance and stable across its restarts: a restart within SessionTimeout gets
	// its partitions back without the group waiting for the dead member to expire.
	// Default: TransactionalID. "-" turns static membership off (dynamic member ids).
	InstanceID string
	// LeaveOnClose makes Close leave the group although the member is static, so that its
	// partitions move at once (scaling in) instead of waiting SessionTimeout for a restart.
	LeaveOnClose bool

	Inputs    []string // co-partitioned input topics consumed in Group (required)
	Changelog string   // compacted changelog topic, partitioned like the inputs (required)
	DLQ       string   // dead-letter topic; empty: poison records make Run fail
	// Repartition is the internal topic that co-partitions the inputs by key (Kafka Streams'
	// repartition topic): a record not on partition KeyPartition(key) of its input is forwarded
	// there in the open transaction and handled when read back (see repartition.go). It must
	// be partitioned like the inputs. Empty: records are handled where they were read, so
	// producers must partition with murmur2.
	Repartition string

	CommitInterval  time.Duration // how long a transaction stays open; default 500ms
	MaxBatchRecords int           // input records per transaction at most; default 10000
	// RestoreTimeout bounds waiting for other transactions on a changelog partition to end
	// before restoring it, and retrying a listing of its offsets that failed with a retriable
	// error (a leader lost); default 2 × TransactionTimeout + 10s (a timed-out transaction is
	// aborted by the broker's periodic check, every 10s by default).
	RestoreTimeout     time.Duration
	TransactionTimeout time.Duration // default 10s (kgo's default is 40s)
	SessionTimeout     time.Duration // group session timeout; default 15s
	RebalanceTimeout   time.Duration // default 60s; restore runs within it
	// SweepEvery is how far a partition's event-time watermark moves between two sweeps of
	// its state (when the Handler is a Sweeper); default 24h.
	SweepEvery time.Duration

	// Timestamp extracts the time by which the co-partitioned inputs of a partition number are
	// merged (merge.go): the handler always gets the buffered record with the smallest
	// timestamp among the heads of its inputs. It must be a function of the record's bytes
	// (key, value, headers); ok false (a record it cannot read) hands the record at once,
	// ahead of the others. A forwarded record is timed from its original bytes. Default: the
	// Kafka record timestamp.
	Timestamp func(rec *kgo.Record) (t time.Time, ok bool)
	// MaxTaskIdle is how long a buffered record waits for an empty input of its partition
	// number that is caught up (Kafka Streams' max.task.idle.ms): live, a record of another
	// input produced before it may still be on its way (fetched a moment later). It changes
	// nothing for a backlog or a replay, where a caught-up input has nothing more; it only
	// delays live records. Default 0: no wait.
	MaxTaskIdle time.Duration
	// MaxBufferedRecords bounds the records buffered per consumed topic partition while the
	// merge waits for another input of its partition number: fetching a partition pauses at
	// this many buffered records and resumes below half of it. Default DefaultMaxBufferedRecords.
	MaxBufferedRecords int
	// FetchMaxPartitionBytes is what one fetch brings at most per partition (kgo's
	// FetchMaxPartitionBytes): with MaxBufferedRecords it bounds the memory the inputs take
	// while the merge waits. Default DefaultFetchMaxPartitionBytes.
	FetchMaxPartitionBytes int32

	// LazyRestore keeps each restored key's latest changelog value as bytes and decodes it on
	// first access (Tx.State, Tx.Peek, a sweep) instead of during the restore, which then
	// mostly copies bytes. Only for a Handler whose UnmarshalState has no side effect beyond
	// filling the state (Tx.Keys lists a partition's keys, restored or not).
	// A value that fails to decode stops Run, as it does at an eager restore.
	LazyRestore bool

	Logger   *slog.Logger          // default slog.Default()
	Registry prometheus.Registerer // metrics; nil: not registered
	// ClientOpts are appended to the options of every client (tests: logging, kfake).
	ClientOpts []kgo.Opt
}

// Defaults of Config.
const (
	DefaultCommitInterval  = 500 * time.Millisecond
	DefaultMaxBatchRecords = 10000
	// DefaultTransactionTimeout bounds how long the open transaction of a crashed instance
	// that never comes back under its name blocks read_committed consumers (the last stable
	// offset) and the restore of its partitions elsewhere; it must only exceed the longest
	// transaction (CommitInterval plus the commit itself). README "Operations" has the why.
	DefaultTransactionTimeout = 10 * time.Second
	// DefaultSessionTimeout is how long a crashed member's partitions wait for it (static
	// membership: for its restart) before the group moves them.
	DefaultSessionTimeout   = 15 * time.Second
	DefaultRebalanceTimeout = 60 * time.Second
	DefaultSweepEvery       = 24 * time.Hour
	// DefaultMaxBufferedRecords bounds the merge buffer of one topic partition and
	// DefaultFetchMaxPartitionBytes what one fetch brings for it (about 1,000 records of the
	// ledger's inputs). Together they bound what the inputs hold in memory: every buffered
	// record keeps its whole decompressed batch alive. The refill (one fetch) stays well below
	// the resume point (half the buffer), so a refill rarely pauses a partition (pausing drops
	// what the client fetched ahead for it, fetched and decompressed again later). Measured
	// over a 100k-client backlog (docs/BENCHMARKS.md, 2026-12-02 "ledger memory"): with the
	// compact bookings, kgo's 1 MiB with 20,000 records peaked at 638–646 MiB, 256 KiB with
	// 5,000 at 414–428 MiB for the same CPU, reading 5–6% more bytes; 128 KiB with 2,500
	// saved 10–20 MiB more for more CPU. 1 MiB with 5,000 fetched 1.95× the records.
	DefaultMaxBufferedRecords     = 5000
	DefaultFetchMaxPartitionBytes = 256 << 10
)

// abortCheckInterval is the default of the broker's
// transaction.abort.timed.out.transaction.cleanup.interval.ms: a transaction is aborted up to
// this long after its timeout.
const abortCheckInterval = 10 * time.Second

func (c Config) sweepEvery() time.Duration { return c.SweepEvery }

// problems returns what is wrong with the names of c: missing ones, and topics used twice.
func (c Config) problems() []error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("no group"))
	}
	if len(c.Inputs) == 0 {
		errs = append(errs, errors.New("no input topics"))
	}
	if c.Changelog == "" {
		errs = append(errs, errors.New("no changelog topic"))
	}
	for _, in := range c.Inputs {
		if in == c.Changelog || in == c.DLQ || in == c.Repartition {
			errs = append(errs, fmt.Errorf("input topic %q is also an output", in))
		}
	}
	if c.Repartition != "" && (c.Repartition == c.Changelog || c.Repartition == c.DLQ) {
		errs = append(errs, fmt.Errorf("repartition topic %q is also the changelog or dead-letter topic", c.Repartition))
	}
	return errs
}

func (c Config) withDefaults() (Config, error) {
	errs := c.problems()
	c.TransactionalID = cmp.Or(c.TransactionalID, c.Group+"-"+c.Name)
	c.InstanceID = cmp.Or(c.InstanceID, c.TransactionalID)
	c.CommitInterval = cmp.Or(c.CommitInterval, DefaultCommitInterval)
	c.MaxBatchRecords = cmp.Or(c.MaxBatchRecords, DefaultMaxBatchRecords)
	c.TransactionTimeout = cmp.Or(c.TransactionTimeout, DefaultTransactionTimeout)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, DefaultSessionTimeout)
	c.RebalanceTimeout = cmp.Or(c.RebalanceTimeout, DefaultRebalanceTimeout)
	c.SweepEvery = cmp.Or(c.SweepEvery, DefaultSweepEvery)
	c.MaxBufferedRecords = cmp.Or(c.MaxBufferedRecords, DefaultMaxBufferedRecords)
	c.FetchMaxPartitionBytes = cmp.Or(c.FetchMaxPartitionBytes, DefaultFetchMaxPartitionBytes)
	if c.RestoreTimeout == 0 {
		c.RestoreTimeout = 2*c.TransactionTimeout + abortCheckInterval
	}
	if c.CommitInterval < 0 || c.MaxBatchRecords < 0 || c.TransactionTimeout < 0 ||
		c.SessionTimeout < 0 || c.RebalanceTimeout < 0 || c.RestoreTimeout < 0 || c.MaxBufferedRecords < 0 || c.MaxTaskIdle < 0 ||
		c.FetchMaxPartitionBytes < 0 {
		errs = append(errs, errors.New("negative interval or bound"))
	}
	if c.CommitInterval >= c.TransactionTimeout {
		errs = append(errs, fmt.Errorf("commit interval %v must be below the transaction timeout %v", c.CommitInterval, c.TransactionTimeout))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("stream config: %w", err)
	}
	return c, nil
}
