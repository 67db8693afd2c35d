// Package topology declares the pipeline's topics and runners once: per topic its name, key,
// codec, cleanup policy, co-partition group and, when the sink copies it, its raw table; per
// runner its consumer group and what it reads, writes and keeps. `taskole topics create` and
// `topics describe`, the runners' co-partition checks, `taskole lag`'s groups and the sink's
// routes all derive from it, and docs/DESIGN.md's topology table is checked against it by a
// test.
//
// Every name sits under one prefix (New): the one way to give a test or a tenant its own
// namespace.
package topology

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

// Default names of the internal topics (under the prefix).
const (
	LedgerRepartition = "taskole.ledger-repartition.v1"
	LedgerState       = "taskole.ledger-state.v1"
	PayoutsState      = "taskole.payouts-state.v1"
	PayoutsControl    = "taskole.payouts-control.v1"
)

// Default consumer groups of the runners (under the prefix).
const (
	GroupLedger  = "taskole-ledger"
	GroupPayouts = "taskole-payouts"
	GroupSink    = "taskole-sink"
)

// Co-partition groups: the topics of one group must have one partition count, because a key's
// records and state meet on the partition of the same number.
const (
	ByClient = "client" // the ledger's inputs, state and owner table, by client_id
	ByOwner  = "owner"  // the payouts' input, state and control, by owner_business_id
)

// Topic is one topic of the pipeline.
type Topic struct {
	Name    string // under the prefix
	Key     string // what the record key carries
	Codec   string // the value's codec
	Compact bool   // cleanup.policy=compact (else delete)
	// Configs are extra topic configs it is created with.
	Configs map[string]string
	// CoPartition is the topic's co-partition group (ByClient, ByOwner), or "".
	CoPartition string
	// Table is the raw ClickHouse table the sink copies it into, or "" when it is not sunk.
	Table string
}

// Runner is one component that consumes in a group of its own.
type Runner struct {
	Name   string   // its subcommand
	Group  string   // its consumer group, under the prefix
	Reads  []string // topics it consumes
	Writes []string // topics it produces to
	Keeps  []string // its state changelogs (read on restore, written in every transaction)
}

// Topology is the declared pipeline under one prefix. The zero value is the default
// namespace.
type Topology struct {
	prefix string
}

// New returns the topology whose every topic and group name starts with prefix.
func New(prefix string) Topology { return Topology{prefix: prefix} }

// Prefix returns the prefix of every name.
func (t Topology) Prefix() string { return t.prefix }

// Name returns the name of a default topic or group name under t's prefix.
func (t Topology) Name(name string) string { return t.prefix + name }

// Names returns the names of the contract topics of SPEC §4 under t's prefix.
func (t Topology) Names() schemas.Topics { return schemas.TopicsUnder(t.prefix) }

// Topics returns every topic, in the order the sink inserts their tables; the internal
// topics last.
func (t Topology) Topics() []Topic {
	n := t.Names()
	dlq := stream.DeadLetterTopicConfigs()
	return []Topic{
		{Name: string(n.Bookings), Key: "client_id", Codec: "json " + string(schemas.TopicBookings), CoPartition: ByClient, Table: "bookings"},
		{Name: string(n.Enrollments), Key: "client_id", Codec: "json " + string(schemas.TopicEnrollments), CoPartition: ByClient, Table: "enrollments"},
		{Name: string(n.Businesses), Key: "business_id", Codec: "json " + string(schemas.TopicBusinesses), Table: "businesses"},
		{Name: string(n.Feedback), Key: "client_id", Codec: "json " + string(schemas.TopicFeedback), CoPartition: ByClient, Table: "feedback"},
		{Name: string(n.AcquisitionCosts), Key: "business_id", Codec: "json " + string(schemas.TopicAcquisitionCosts), Table: "acquisition_costs"},
		{Name: string(n.ReferralOwners), Key: "client_id", Codec: "json " + string(schemas.TopicReferralOwners), Compact: true, CoPartition: ByClient, Table: "referral_owners"},
		{Name: string(n.PurchaseFacts), Key: "client_id", Codec: "json " + string(schemas.TopicPurchaseFacts), CoPartition: ByClient, Table: "purchase_facts"},
		{Name: string(n.Commissions), Key: "owner_business_id", Codec: "json " + string(schemas.TopicCommissions) + " + progress markers", CoPartition: ByOwner, Table: "commissions"},
		{Name: string(n.Payouts), Key: "owner_business_id", Codec: "json " + string(schemas.TopicPayouts), Table: "payouts"},
		{Name: string(n.DLQ), Key: "as received", Codec: "json " + string(schemas.TopicDLQ), Configs: dlq, Table: "dlq"},
		{Name: string(n.RetentionCosts), Key: "business_id", Codec: "json " + string(schemas.TopicRetentionCosts), Table: "retention_costs"},
		// The ledger deletes what it has committed from its repartition topic itself
		// (stream: purgeRepartition), so it keeps records until then: a ledger that is
		// down for long loses nothing.
		{Name: t.Name(LedgerRepartition), Key: "client_id", Codec: "input records, unchanged + origin header", CoPartition: ByClient, Configs: map[string]string{"retention.ms": "-1"}},
		{Name: t.Name(LedgerState), Key: "client_id", Codec: "binary ledger state", Compact: true, CoPartition: ByClient},
		{Name: t.Name(PayoutsState), Key: "owner_business_id", Codec: "binary payout state", Compact: true, CoPartition: ByOwner},
		{Name: t.Name(PayoutsControl), Key: "none", Codec: "json close command", CoPartition: ByOwner},
	}
}

// Runners returns the components that consume in groups, in the order `taskole lag` lists
// them.
func (t Topology) Runners() []Runner {
	n := t.Names()
	var sunk []string
	for _, tp := range t.Topics() {
		if tp.Table != "" {
			sunk = append(sunk, tp.Name)
		}
	}
	return []Runner{
		{Name: "ledger", Group: t.Name(GroupLedger),
			Reads:  []string{string(n.Enrollments), string(n.Bookings), t.Name(LedgerRepartition), string(n.Businesses)},
			Writes: []string{string(n.ReferralOwners), string(n.Commissions), string(n.PurchaseFacts), string(n.DLQ), t.Name(LedgerRepartition)},
			Keeps:  []string{t.Name(LedgerState)}},
		{Name: "payouts", Group: t.Name(GroupPayouts),
			Reads:  []string{string(n.Commissions), t.Name(PayoutsControl)},
			Writes: []string{string(n.Payouts), string(n.DLQ)},
			Keeps:  []string{t.Name(PayoutsState)}},
		{Name: "sink", Group: t.Name(GroupSink), Reads: sunk, Writes: []string{string(n.DLQ)}},
	}
}

// Runner returns the runner called name; it panics on a name Runners does not declare (a
// programming error).
func (t Topology) Runner(name string) Runner {
	for _, r := range t.Runners() {
		if r.Name == name {
			return r
		}
	}
	panic("topology: no runner " + name)
}

// Topic returns the topic called name (under the prefix) and whether t declares it.
func (t Topology) Topic(name string) (Topic, bool) {
	for _, tp := range t.Topics() {
		if tp.Name == name {
			return tp, true
		}
	}
	return Topic{}, false
}

// Specs returns the topics to create, each with partitions partitions (0: the broker's
// default).
func (t Topology) Specs(partitions int32) []stream.TopicSpec {
	var out []stream.TopicSpec
	for _, tp := range t.Topics() {
		out = append(out, tp.Spec(partitions))
	}
	return out
}

// Spec returns the topic as it is created with partitions partitions.
func (tp Topic) Spec(partitions int32) stream.TopicSpec {
	return stream.TopicSpec{Name: tp.Name, Partitions: partitions, Compact: tp.Compact, Configs: tp.Configs}
}

// CoPartitioned returns the co-partition groups of every topic in names (all topics when
// names is empty), each group with at least two of them.
func (t Topology) CoPartitioned(names ...string) [][]string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	byGroup := map[string][]string{}
	var order []string
	for _, tp := range t.Topics() {
		if tp.CoPartition == "" || (len(names) > 0 && !want[tp.Name]) {
			continue
		}
		if _, ok := byGroup[tp.CoPartition]; !ok {
			order = append(order, tp.CoPartition)
		}
		byGroup[tp.CoPartition] = append(byGroup[tp.CoPartition], tp.Name)
	}
	var out [][]string
	for _, g := range order {
		if len(byGroup[g]) > 1 {
			out = append(out, byGroup[g])
		}
	}
	return out
}

// Touches returns every topic r reads, writes or keeps, each once.
func (r Runner) Touches() []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{r.Reads, r.Writes, r.Keeps} {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// Groups returns the consumer groups of the runners, as `taskole lag` waits for them.
func (t Topology) Groups() []string {
	var out []string
	for _, r := range t.Runners() {
		out = append(out, r.Group)
	}
	return out
}

// Describe prints the topology: one line per topic, then one per runner.
func (t Topology) Describe(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tKEY\tCODEC\tCLEANUP\tCO-PARTITION\tSINK TABLE")
	for _, tp := range t.Topics() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", tp.Name, tp.Key, tp.Codec, tp.cleanup(), dash(tp.CoPartition), dash(tp.Table))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RUNNER\tGROUP\tREADS\tWRITES\tKEEPS")
	for _, r := range t.Runners() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Group, list(r.Reads), list(r.Writes), list(r.Keeps))
	}
	return tw.Flush()
}

// Markdown returns the topic table of docs/DESIGN.md ("Topology"), default names.
func (t Topology) Markdown() string {
	var b strings.Builder
	b.WriteString("| topic | key | codec | cleanup | co-partition | sink table |\n|---|---|---|---|---|---|\n")
	for _, tp := range t.Topics() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", tp.Name, tp.Key, tp.Codec, tp.cleanup(), dash(tp.CoPartition), dash(tp.Table))
	}
	b.WriteString("\n| runner | group | reads | writes | keeps |\n|---|---|---|---|---|\n")
	for _, r := range t.Runners() {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", r.Name, r.Group, list(r.Reads), list(r.Writes), list(r.Keeps))
	}
	return b.String()
}

func (tp Topic) cleanup() string {
	if tp.Compact {
		return "compact"
	}
	return "delete"
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func list(l []string) string {
	if len(l) == 0 {
		return "–"
	}
	return strings.Join(l, ", ")
}

// Of returns the topology names belongs to: the prefix its enrollments topic carries before
// the default name (the runners' configs name the contract topics; their own topics follow).
func Of(names schemas.Topics) Topology {
	n := names.WithDefaults()
	prefix, _ := strings.CutSuffix(string(n.Enrollments), string(schemas.TopicEnrollments))
	return New(prefix)
}
