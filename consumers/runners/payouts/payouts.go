// Package payouts runs the payout rules (pipelines/statement, SPEC R7) exactly once over the
// ledger: it consumes taskole.commissions.v1 (keyed by owner) and a control topic of explicit
// close commands, keeps each owner's payout state in a compacted changelog
// (taskole.payouts-state.v1) and writes statements to taskole.payouts.v1 — statements, state
// and input offsets commit in one Kafka transaction (consumers/stream), so a statement is
// issued once per owner × currency × period whatever crashes, restarts or rebalances happen.
//
// # Closing periods
//
// The clock of a commissions partition is the ledger's low watermark: the ledger writes a
// progress marker (record header schemas.MarkerHeader, value schemas.LedgerProgress) to every
// commissions partition in each of its transactions, naming its full input set and, per input
// partition it processed, the next offset and the largest occurred_at. The runner keeps the
// latest progress of every input partition (stream metadata, in the changelog) and closes a
// period once the minimum over all of them passes period_end + CloseDelay: every owner of the
// partition with open entries or a balance gets its statements, owners without new traffic
// included. Each commission is booked by statement.Engine.AddFrom with the source watermark the
// ledger put in its header, so on-time entries land in their own period and late ones, named
// late, in the next open one, at any processing speed.
//
// Finance's close (Close, `taskole payouts --close-through 2025-02-01`) is the idle-partition
// rule: one record {"close_through": "<RFC 3339>", "ledger_ends": {"<topic>/<partition>":
// offset}} per partition of the control topic (co-partitioned with commissions). An input
// partition counts as having reached close_through + CloseDelay once the ledger's progress on
// it reached the end offset pinned in the command, so nothing that was in the input when
// finance closed is moved by the close. See docs/DESIGN.md ("Payouts").
//
// Bad input (a commission that does not decode, a key that is not its owner, an entry the
// rules refuse, a malformed close command) is dead-lettered with its reason; the clocks and
// states are left untouched by it.
package payouts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/statement"
	"github.com/taskole/revshare/schemas"
)

// Default names of the runner's own topics and group (topology).
const (
	DefaultChangelog = topology.PayoutsState
	DefaultControl   = topology.PayoutsControl
	DefaultGroup     = topology.GroupPayouts
)

// Config configures a Runner. The zero value of every field but Brokers means its default.
type Config struct {
	Brokers []string
	// Topics: Commissions (input), Payouts (output), DLQ; zero: defaults. Topics.Prefix is
	// the prefix of the default Changelog, Control and Group.
	Topics schemas.Topics
	// Changelog and Control default to DefaultChangelog / DefaultControl (under the prefix).
	Changelog string
	Control   string
	Group     string // default DefaultGroup (under the prefix)
	// Instance names this process in its transactional id (unique per running instance,
	// stable across its restarts); default "payouts".
	Instance string
	// Partitions is the partition count used when the commissions topic has to be created;
	// 0: the broker's default. The changelog and control topics copy the commissions count.
	Partitions int32

	Rules statement.Config // payout period, minimum payouts, close delay
	// LedgerInputs are the ledger's input topics, whose end offsets a close command pins
	// (Close); default ledger.InputTopics(Topics). The runner itself learns the input set
	// from the ledger's progress markers.
	LedgerInputs []string

	CommitInterval time.Duration // default stream.DefaultCommitInterval
	// SessionTimeout and TransactionTimeout: default stream's; LeaveOnClose: leave the group
	// on Close (scaling in) instead of holding the partitions for a restart under Instance.
	SessionTimeout     time.Duration
	TransactionTimeout time.Duration
	LeaveOnClose       bool
	Logger             *slog.Logger
	Registry           prometheus.Registerer
	ClientOpts         []kgo.Opt // appended to every client's options (tests)
}

// Runner is the payouts consumer. Create it with New, run it with Run; Close releases it.
type Runner struct {
	cfg   Config
	h     *handler
	proc  *stream.Processor[statement.State]
	ready topology.Readiness
	log   *slog.Logger
}

// withDefaults returns c with every zero field replaced by its default: the one place they
// are derived (New, EnsureTopics and Close all start here).
func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, errors.New("payouts config: no brokers")
	}
	tp := topology.New(c.Topics.Prefix)
	c.Topics = c.Topics.WithDefaults()
	if c.Changelog == "" {
		c.Changelog = tp.Name(DefaultChangelog)
	}
	if c.Control == "" {
		c.Control = tp.Name(DefaultControl)
	}
	if c.Group == "" {
		c.Group = tp.Name(DefaultGroup)
	}
	if c.Instance == "" {
		c.Instance = "payouts"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.LedgerInputs) == 0 {
		c.LedgerInputs = ledger.InputTopics(c.Topics)
	}
	return c, nil
}

// New validates cfg and creates the runner. It connects lazily.
func New(cfg Config) (*Runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	eng, err := statement.New(cfg.Rules)
	if err != nil {
		return nil, err
	}
	h := newHandler(eng, cfg, cfg.Registry)
	proc, err := stream.New(stream.Config{
		Brokers:         cfg.Brokers,
		Name:            "payouts",
		Group:           cfg.Group,
		TransactionalID: cfg.Group + "-" + cfg.Instance,
		Inputs:          []string{string(cfg.Topics.Commissions), cfg.Control},
		Changelog:       cfg.Changelog,
		DLQ:             string(cfg.Topics.DLQ),
		// Safe: UnmarshalState only fills the state; a period turnover walks the partition's
		// owners through tx.Keys, raw or decoded.
		LazyRestore:        true,
		CommitInterval:     cfg.CommitInterval,
		SessionTimeout:     cfg.SessionTimeout,
		TransactionTimeout: cfg.TransactionTimeout,
		LeaveOnClose:       cfg.LeaveOnClose,
		Logger:             cfg.Logger,
		Registry:           cfg.Registry,
		ClientOpts:         cfg.ClientOpts,
	}, h)
	if err != nil {
		return nil, fmt.Errorf("creating payouts processor: %w", err)
	}
	r := &Runner{cfg: cfg, h: h, proc: proc, log: cfg.Logger}
	if r.ready, err = r.readiness(); err != nil {
		return nil, err
	}
	return r, nil
}

// readiness is what payouts waits for, as the topology declares it: the topics it consumes in
// its group and its changelog (joined, every assigned partition restored).
func (r *Runner) readiness() (topology.Readiness, error) {
	tp := topology.New(r.cfg.Topics.Prefix)
	checks := map[string]func() bool{}
	for _, t := range []string{string(tp.Names().Commissions), tp.Name(DefaultControl), tp.Name(DefaultChangelog)} {
		checks[t] = r.proc.Ready
	}
	return tp.Runner("payouts").Readiness(checks)
}

// Run creates the missing topics, then consumes and commits until ctx is cancelled (it
// finishes the open transaction and returns nil) or a fatal error occurs.
func (r *Runner) Run(ctx context.Context) error {
	if err := EnsureTopics(ctx, r.cfg); err != nil {
		return err
	}
	return r.proc.Run(ctx)
}

// Ready reports whether payouts holds every topic it waits for (readiness): it consumes with
// every assigned partition restored.
func (r *Runner) Ready() bool { return r.ready.Ready() }

// Waiting returns the topics payouts is not ready with yet (for /readyz).
func (r *Runner) Waiting() []string { return r.ready.Waiting() }

// Close leaves the group and closes the clients; idempotent, call it after Run returns.
func (r *Runner) Close() { r.proc.Close() }

// EnsureTopics creates the runner's topics when missing: commissions, payouts and dead
// letters (delete policy), and the changelog (compacted) and control topics with the
// commissions topic's partition count, then checks they are co-partitioned.
func EnsureTopics(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	commissions := string(cfg.Topics.Commissions)
	if err := stream.EnsureTopics(ctx, cl, []stream.TopicSpec{
		{Name: commissions, Partitions: cfg.Partitions},
		{Name: string(cfg.Topics.Payouts), Partitions: cfg.Partitions},
		{Name: string(cfg.Topics.DLQ), Configs: stream.DeadLetterTopicConfigs()},
	}); err != nil {
		return err
	}
	n, err := partitions(ctx, cl, commissions)
	if err != nil {
		return err
	}
	return stream.EnsureTopics(ctx, cl, []stream.TopicSpec{
		{Name: cfg.Changelog, Partitions: n, Compact: true},
		{Name: cfg.Control, Partitions: n},
	}, []string{commissions, cfg.Changelog, cfg.Control})
}

func partitions(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	td, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describing topic %s: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		return 0, fmt.Errorf("describing topic %s: %w", topic, d.Err)
	}
	return int32(len(d.Partitions)), nil
}

// CloseCommand is the value of a control record: close every payout period that ends at or
// before CloseThrough, once the ledger has processed every record its input partitions held
// when the command was issued (LedgerEnds, "<topic>/<partition>" → end offset). It is the
// idle-partition rule: a ledger input partition that has no record past its pinned end offset
// counts as having reached CloseThrough + CloseDelay once the ledger's progress on it reached
// that offset. A record that was in the input when finance closed is therefore never moved by
// the close; one appended later with an earlier time is late. A command without LedgerEnds
// closes only what the low watermark closes anyway.
type CloseCommand struct {
	CloseThrough time.Time        `json:"close_through"`
	LedgerEnds   map[string]int64 `json:"ledger_ends,omitempty"`
}

// Close writes a close command for every period ending at or before through to every
// partition of the control topic, in one transaction-free batch, with the end offsets the
// ledger's input partitions have now; the runner applies it to each commissions partition
// (idempotent: a repeated command changes nothing).
func Close(ctx context.Context, cfg Config, through time.Time) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, cfg.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("creating producer: %w", err)
	}
	defer cl.Close()
	n, err := partitions(ctx, cl, cfg.Control)
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, cfg.LedgerInputs...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("listing the ledger inputs' end offsets: %w", err)
	}
	cmd := CloseCommand{CloseThrough: through.UTC(), LedgerEnds: map[string]int64{}}
	ends.Each(func(o kadm.ListedOffset) { cmd.LedgerEnds[partKey(o.Topic, o.Partition)] = o.Offset })
	for _, t := range cfg.LedgerInputs {
		if _, ok := ends[t]; !ok {
			return fmt.Errorf("listing the ledger inputs' end offsets: no topic %s", t)
		}
	}
	v, _ := json.Marshal(cmd)
	recs := make([]*kgo.Record, n)
	for p := range recs {
		recs[p] = &kgo.Record{Topic: cfg.Control, Partition: int32(p), Value: v}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing close commands: %w", err)
	}
	return nil
}

// handler binds the payout rules to the stream processor. Its state type is statement.State,
// keyed by owner business id.
type handler struct {
	e                             *statement.Engine
	commissions, control, payouts string
	log                           *slog.Logger

	out []schemas.Payout // scratch

	statements *prometheus.CounterVec
	entries    *prometheus.CounterVec
}

func newHandler(e *statement.Engine, cfg Config, reg prometheus.Registerer) *handler {
	h := &handler{e: e, commissions: string(cfg.Topics.Commissions), control: cfg.Control,
		payouts: string(cfg.Topics.Payouts), log: cfg.Logger,
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_payouts_statements_total",
			Help: "Statements issued, by currency and whether anything is payable (counted when processed; a retried transaction counts again)."},
			[]string{"currency", "payable"}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taskole_payouts_entries_total",
			Help: "Ledger entries booked, by outcome: booked, late (landed in the next open period), duplicate."},
			[]string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(h.statements, h.entries)
	}
	return h
}

// Handle books one commission, or applies a ledger progress marker or a close command to
// the partition's clock.
func (h *handler) Handle(_ context.Context, rec *kgo.Record, tx *stream.Tx[statement.State]) error {
	switch rec.Topic {
	case h.control:
		var cmd CloseCommand
		if err := json.Unmarshal(rec.Value, &cmd); err != nil || cmd.CloseThrough.IsZero() {
			return schemas.Refused(schemas.LabelCloseCommand, fmt.Errorf("decoding close command %q: want {\"close_through\": RFC 3339, \"ledger_ends\": {…}}: %w", prefix(rec.Value), err))
		}
		ck, err := h.clock(tx)
		if err != nil {
			return err
		}
		if len(cmd.LedgerEnds) > 0 {
			ck.Closes = append(ck.Closes, closeCmd{Through: h.e.CloseThrough(cmd.CloseThrough).UnixNano(), Ends: cmd.LedgerEnds})
		}
		h.setClock(tx, ck)
		if low := ck.low(); low != 0 {
			h.advance(tx, time.Unix(0, low).UTC())
		}
		return nil
	case h.commissions:
	default:
		return fmt.Errorf("handling record of unexpected topic %s", rec.Topic)
	}
	if marker(rec) {
		return h.progress(tx, rec)
	}
	c, err := schemas.DecodeCommission(rec.Value)
	if err != nil {
		return fmt.Errorf("decoding commission: %w", err)
	}
	if string(rec.Key) != c.OwnerBusinessID {
		return schemas.Refused(schemas.LabelKeyMismatch, fmt.Errorf("checking commission %s: record key %q is not its owner_business_id %q",
			c.CommissionID, rec.Key, c.OwnerBusinessID))
	}
	var source time.Time
	if v, ok := stream.Header(rec, schemas.SourceWatermarkHeader); ok && len(v) > 0 {
		if source, err = time.Parse(time.RFC3339Nano, string(v)); err != nil {
			return schemas.Refused(schemas.LabelSourceWatermark, fmt.Errorf("checking commission %s: header %s %q: %w",
				c.CommissionID, schemas.SourceWatermarkHeader, prefix(v), err))
		}
	}
	if s, ok := tx.Peek(c.OwnerBusinessID); ok {
		if _, err := h.e.Check(s, c); err != nil {
			return err
		}
	} else if _, err := h.e.Check(&statement.State{}, c); err != nil {
		return err
	}
	// Valid: close what the partition's clock closes for the owner, then book.
	s := tx.State(c.OwnerBusinessID)
	h.emit(tx, h.e.Advance(h.out[:0], s, tx.Watermark()))
	out, err := h.e.AddFrom(s, c, source)
	if err != nil { // unreachable after Check; never half-apply
		return fmt.Errorf("booking commission %s: %w", c.CommissionID, err)
	}
	h.entries.WithLabelValues(out.String()).Inc()
	return nil
}

// progress applies a ledger progress marker: the partition's clock becomes the low watermark
// of every ledger input partition.
func (h *handler) progress(tx *stream.Tx[statement.State], rec *kgo.Record) error {
	v, err := schemas.DecodeLedgerProgress(rec.Value)
	if err != nil {
		return fmt.Errorf("decoding ledger progress marker: %w", err)
	}
	ck, err := h.clock(tx)
	if err != nil {
		return err
	}
	ck.Inputs = map[string]int32{}
	for _, in := range v.Inputs {
		ck.Inputs[in.Topic] = in.Partitions
	}
	if ck.Parts == nil {
		ck.Parts = map[string]partClock{}
	}
	for _, p := range v.Progress {
		k := partKey(p.Topic, p.Partition)
		pc := ck.Parts[k]
		pc.Next = max(pc.Next, p.NextOffset)
		if !p.Watermark.IsZero() {
			pc.Watermark = max(pc.Watermark, p.Watermark.UnixNano())
		}
		ck.Parts[k] = pc
	}
	h.setClock(tx, ck)
	if low := ck.low(); low != 0 {
		h.advance(tx, time.Unix(0, low).UTC())
	}
	return nil
}

// advance moves the partition's watermark to at; when that closes a period, every owner of
// the partition with something to state gets its statements, in owner id order.
func (h *handler) advance(tx *stream.Tx[statement.State], at time.Time) {
	before := h.e.OpenFrom(tx.Watermark())
	tx.Advance(at)
	if !h.e.OpenFrom(tx.Watermark()).After(before) {
		return
	}
	wm := tx.Watermark()
	for _, o := range tx.Keys() { // the partition's owners, in id order
		if s, ok := tx.Peek(o); !ok || s.Idle() {
			continue
		}
		h.emit(tx, h.e.Advance(h.out[:0], tx.State(o), wm))
	}
}

// clockMeta is the stream metadata name of a partition's clock.
const clockMeta = "clock"

// clock is what a commissions partition knows of the ledger's progress: the ledger's input
// set, the progress per input partition from the markers, and finance's close commands. It is
// stream metadata of the partition (changelog, rollback with an aborted transaction).
type clock struct {
	Inputs map[string]int32     `json:"inputs,omitempty"` // topic → partition count
	Parts  map[string]partClock `json:"parts,omitempty"`  // "<topic>/<partition>"
	Closes []closeCmd           `json:"closes,omitempty"`
}

type partClock struct {
	Next      int64 `json:"next"`      // the ledger processed every record below
	Watermark int64 `json:"watermark"` // unix nanos of the largest accepted occurred_at; 0: none
}

type closeCmd struct {
	Through int64            `json:"through"` // close_through + CloseDelay, unix nanos
	Ends    map[string]int64 `json:"ends"`
}

// low returns the low watermark (unix nanos; 0: none yet): the minimum over every input
// partition of its watermark, raised to a close command's close_through + CloseDelay once the
// ledger processed the partition up to the end offset the command pinned.
func (c *clock) low() int64 {
	if len(c.Inputs) == 0 {
		return 0
	}
	low := int64(math.MaxInt64)
	for t, n := range c.Inputs {
		for p := range n {
			k := partKey(t, p)
			pc := c.Parts[k]
			w := pc.Watermark
			for _, cmd := range c.Closes {
				if end, ok := cmd.Ends[k]; ok && pc.Next >= end {
					w = max(w, cmd.Through)
				}
			}
			low = min(low, w)
		}
	}
	return low
}

func partKey(topic string, partition int32) string {
	return topic + "/" + strconv.FormatInt(int64(partition), 10)
}

func (h *handler) clock(tx *stream.Tx[statement.State]) (clock, error) {
	var c clock
	if b := tx.Meta(clockMeta); b != nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("decoding the partition's clock: %w", err) // not poison: our own state
		}
	}
	return c, nil
}

func (h *handler) setClock(tx *stream.Tx[statement.State], c clock) {
	b, _ := json.Marshal(c) // maps marshal with sorted keys: same clock, same bytes
	tx.SetMeta(clockMeta, b)
}

func marker(rec *kgo.Record) bool { _, ok := stream.Header(rec, schemas.MarkerHeader); return ok }

// prefix bounds what a log or error quotes of a record.
func prefix(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func (h *handler) emit(tx *stream.Tx[statement.State], sts []schemas.Payout) {
	for _, st := range sts {
		tx.Produce(&kgo.Record{Topic: h.payouts, Key: []byte(st.OwnerBusinessID), Value: schemas.AppendPayout(nil, st)})
		payable := "no"
		if st.Payable.Sign() > 0 {
			payable = "yes"
		}
		h.statements.WithLabelValues(st.Currency, payable).Inc()
	}
	h.out = sts[:0]
}

func (h *handler) AppendState(dst []byte, s *statement.State) ([]byte, error) {
	return s.AppendBinary(dst)
}

func (h *handler) UnmarshalState(s *statement.State, data []byte) error {
	return s.UnmarshalBinary(data)
}

func (h *handler) EmptyState(s *statement.State) bool { return s.Empty() }

// Sweep closes idle owners and forgets closed ids beyond the dedupe horizon.
func (h *handler) Sweep(watermark time.Time, s *statement.State) bool { return h.e.Sweep(s, watermark) }
