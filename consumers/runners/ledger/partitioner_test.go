package ledger

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/metrictest"
	"github.com/taskole/revshare/pipelines/commission"
	"github.com/taskole/revshare/schemas"
)

// The co-partitioning tests: one generated history produced with different partitioners must
// give one ledger, the reference model's (SPEC §4: producers may use any partitioner).

const coParts = 4 // partition count of every topic in these tests

// crc32Partitioner partitions like librdkafka's default, consistent_random: CRC32 (IEEE) of
// the key modulo the partition count, a random partition for an empty key. kgo has no such
// partitioner built in.
func crc32Partitioner() kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
		return func(r *kgo.Record, n int) int {
			if len(r.Key) == 0 {
				return rand.IntN(n)
			}
			return int(crc32.ChecksumIEEE(r.Key) % uint32(n))
		}
	})
}

// genHistory generates clients' histories: ownership contests between enrollments and
// completed bookings at several businesses, half of the bookings created → completed (no
// confirmed), refunds, cancellations, a redelivered event and an over-refund (dead letter)
// now and then. Per client the inputs are in lifecycle order.
func genHistory(seed uint64, clients int) (rates []input, perClient [][]input) {
	rng := rand.New(rand.NewPCG(seed, 7))
	biz := []string{"B0", "B1", "B2", "B3", "B4"}
	for i, b := range biz[:4] {
		rates = append(rates, business(b, fmt.Sprintf("0.%02d", 3+2*i), 0))
	}
	for i := 0; i < clients; i++ {
		client := fmt.Sprintf("client-%d", i)
		var ins []input
		for e := rng.IntN(3); e > 0; e-- {
			ins = append(ins, enrollment(fmt.Sprintf("%s-e%d", client, e), client, biz[rng.IntN(len(biz))], 1+rng.IntN(40)))
		}
		for k := 1 + rng.IntN(3); k > 0; k-- {
			bk := fmt.Sprintf("%s-bk%d", client, k)
			provider := biz[rng.IntN(len(biz))]
			h := 1 + rng.IntN(40)
			n := 0
			ev := func(status, money string) input {
				n++
				h += rng.IntN(3)
				return booking(fmt.Sprintf("%s-%d", bk, n), bk, client, provider, status, money, h)
			}
			ins = append(ins, ev("created", ""))
			if k%2 == 0 { // the other half goes created → completed
				ins = append(ins, ev("confirmed", ""))
			}
			if rng.IntN(8) == 0 {
				ins = append(ins, ev("cancelled", ""))
				continue
			}
			cents := 1000 + rng.IntN(20000)
			done := ev("completed", fmt.Sprintf("%d.%02d EUR", cents/100, cents%100))
			ins = append(ins, done)
			if rng.IntN(6) == 0 {
				ins = append(ins, done) // redelivered
			}
			left := cents
			for r := rng.IntN(3); r > 0 && left > 1; r-- {
				x := 1 + rng.IntN(left/2)
				left -= x
				ins = append(ins, ev("refunded", fmt.Sprintf("%d.%02d EUR", x/100, x%100)))
			}
			switch rng.IntN(10) {
			case 0:
				if left == cents { // refunded → cancelled is not allowed
					ins = append(ins, ev("cancelled", ""))
				}
			case 1:
				ins = append(ins, bad(ev("refunded", fmt.Sprintf("%d.%02d EUR", (left+1)/100, (left+1)%100)), "refund_exceeds_remaining"))
			}
		}
		perClient = append(perClient, ins)
	}
	return rates, perClient
}

// outcome is what the ledger says of a history: the final owner per client and the net per
// owner/booking/currency (zero nets dropped).
type outcome struct {
	owners map[string]string
	net    map[string]decimal.Decimal
}

// referenceOutcome runs the pure rules per client, in lifecycle order.
func referenceOutcome(t *testing.T, rates []input, perClient [][]input) outcome {
	t.Helper()
	rt := commission.NewRates()
	for _, in := range rates {
		b, err := schemas.DecodeBusiness([]byte(in.value))
		if err != nil {
			t.Fatal(err)
		}
		rt.Apply(b)
	}
	eng, err := commission.New(commission.Config{}, rt)
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{owners: map[string]string{}, net: map[string]decimal.Decimal{}}
	for _, ins := range perClient {
		var s commission.State
		for _, in := range ins {
			var res commission.Result
			var err error
			if in.topic == "enrollments" {
				ev, derr := schemas.DecodeEnrollment([]byte(in.value))
				if derr != nil {
					t.Fatal(derr)
				}
				res, err = eng.Enrollment(&s, ev)
			} else {
				ev, derr := schemas.DecodeBooking([]byte(in.value))
				if derr != nil {
					t.Fatal(derr)
				}
				res, err = eng.Booking(&s, ev)
			}
			if (err != nil) != (in.bad != "") {
				t.Fatalf("reference: %s: error %v, expected bad %q", in.value, err, in.bad)
			}
			if res.Owner != nil {
				o.owners[in.key] = res.Owner.OwnerBusinessID
			}
			for _, c := range res.Commissions {
				k := c.OwnerBusinessID + "/" + c.BookingID + "/" + c.Currency
				o.net[k] = o.net[k].Add(c.Amount)
			}
		}
	}
	for k, v := range o.net {
		if v.IsZero() {
			delete(o.net, k)
		}
	}
	return o
}

// readOutcome reads the owners and commissions topics until they say want (or the timeout).
func readOutcome(t *testing.T, brokers []string, topics schemas.Topics, want outcome, timeout time.Duration) outcome {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got outcome
	for {
		got = outcome{owners: map[string]string{}}
		for _, r := range readAll(t, brokers, string(topics.ReferralOwners), 2*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(want.owners) }) {
			v, err := schemas.DecodeReferralOwner(r.Value)
			if err != nil {
				t.Fatalf("decoding owner: %v", err)
			}
			got.owners[v.ClientID] = v.OwnerBusinessID // one client, one partition: the last record wins
		}
		recs := readAll(t, brokers, string(topics.Commissions), 2*time.Second, func([]*kgo.Record) bool { return false })
		for _, r := range recs {
			// Payouts keys its state by owner on the commissions partition: the ledger must
			// write each entry to the murmur2 partition of its owner key.
			if p := stream.KeyPartition(r.Key, coParts); r.Partition != p {
				t.Fatalf("commission keyed %q on partition %d, murmur2 says %d", r.Key, r.Partition, p)
			}
		}
		net, _, dup := ledgerOf(t, recs)
		if len(dup) > 0 {
			t.Errorf("duplicate commission ids: %d (e.g. %v)", len(dup), dup[:min(3, len(dup))])
		}
		for k, v := range net {
			if v.IsZero() {
				delete(net, k)
			}
		}
		got.net = net
		if diff := got.diff(want); diff == "" || time.Now().After(deadline) {
			return got
		}
	}
}

// diff describes how o differs from want ("" when equal).
func (o outcome) diff(want outcome) string {
	var d []string
	for c, w := range want.owners {
		if o.owners[c] != w {
			d = append(d, fmt.Sprintf("owner of %s = %q, want %q", c, o.owners[c], w))
		}
	}
	for c := range o.owners {
		if _, ok := want.owners[c]; !ok {
			d = append(d, fmt.Sprintf("unexpected owner record for %s", c))
		}
	}
	for k, w := range want.net {
		if !o.net[k].Equal(w) {
			d = append(d, fmt.Sprintf("net %s = %s, want %s", k, o.net[k], w))
		}
	}
	for k, g := range o.net {
		if _, ok := want.net[k]; !ok {
			d = append(d, fmt.Sprintf("unexpected net %s = %s", k, g))
		}
	}
	sort.Strings(d)
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("… and %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

// produceWith writes each client's inputs in order, enrollments with enrollParts and bookings
// with bookParts, and returns the records as produced (with partition and offset).
func produceWith(t *testing.T, brokers []string, topics schemas.Topics, enrollParts, bookParts kgo.Partitioner, ins []input) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	for _, p := range []struct {
		topic string
		part  kgo.Partitioner
	}{{"enrollments", enrollParts}, {"bookings", bookParts}} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(p.part))
		if err != nil {
			t.Fatal(err)
		}
		var batch []*kgo.Record
		for _, in := range ins {
			if in.topic == p.topic {
				batch = append(batch, &kgo.Record{Topic: topicOf(topics, in.topic), Key: []byte(in.key), Value: []byte(in.value)})
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = cl.ProduceSync(ctx, batch...).FirstErr()
		cancel()
		cl.Close()
		if err != nil {
			t.Fatalf("producing %s: %v", p.topic, err)
		}
		recs = append(recs, batch...)
	}
	return recs
}

// prepare creates the ledger's topics with coParts partitions and writes the rates.
func prepare(t *testing.T, brokers []string, topics schemas.Topics, rates []input) {
	t.Helper()
	t.Cleanup(func() { deleteTopics(brokers, topics, ChangelogFor(topics)) })
	cl := itest.Client(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stream.EnsureTopics(ctx, cl, Topics(topics, ChangelogFor(topics), coParts)); err != nil {
		t.Fatal(err)
	}
	produce(t, brokers, topics, rates)
}

func flatten(perClient [][]input) []input {
	var all []input
	for _, ins := range perClient {
		all = append(all, ins...)
	}
	return all
}

// runInProcess runs a Runner until the group consumed everything (inputs and repartition
// topic), then returns the registry for the metric checks.
func runInProcess(t *testing.T, brokers []string, topics schemas.Topics, group string, produceFn func()) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := New(Config{Brokers: brokers, Topics: topics, Group: group, Partitions: coParts,
		CommitInterval: 100 * time.Millisecond, Logger: testLogger(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	stop := startRunner(t, r)
	defer stop()
	produceFn()
	waitSettled(t, brokers, group, topics, 60*time.Second)
	return reg
}

// waitSettled waits until group consumed the inputs and the repartition topic.
func waitSettled(t *testing.T, brokers []string, group string, topics schemas.Topics, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if lagOf(t, brokers, group, string(topics.Enrollments), string(topics.Bookings)) == 0 &&
			repartitionLag(t, brokers, group, RepartitionFor(topics)) == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("group %s did not consume its inputs and repartition topic in %v", group, timeout)
}

// checkDeadLetters checks that every bad input produced (recs[i] of ins[i]) has exactly one
// dead letter naming its original coordinates, forwarded or not.
func checkDeadLetters(t *testing.T, brokers []string, topics schemas.Topics, ins []input, recs []*kgo.Record) {
	t.Helper()
	byValue := map[string]input{}
	for _, in := range ins {
		byValue[in.value] = in
	}
	want := map[string]bool{}
	for _, r := range recs {
		if byValue[string(r.Value)].bad != "" {
			want[fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)] = true
		}
	}
	readAll(t, brokers, string(topics.DLQ), 20*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(want) })
	time.Sleep(500 * time.Millisecond) // then read again: a dead letter too many must show
	dlq := readAll(t, brokers, string(topics.DLQ), 3*time.Second, func(rs []*kgo.Record) bool { return len(rs) > len(want) })
	if len(dlq) != len(want) {
		t.Errorf("dead letters: %d, want %d", len(dlq), len(want))
	}
	for _, r := range dlq {
		d, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if k := fmt.Sprintf("%s/%d@%d", d.Topic, d.Partition, d.Offset); !want[k] {
			t.Errorf("dead letter for %s, not a bad input's original coordinates", k)
		}
	}
}

// TestAnyPartitioner produces one generated history (a) all murmur2, (b) all CRC32 the
// librdkafka way, (c) enrollments murmur2 and bookings CRC32 with a SIGKILL of the ledger
// mid-run, (d) by kcat (librdkafka, default partitioner) for a handful of clients: owners and
// net per owner × booking equal the reference model in every case.
func TestAnyPartitioner(t *testing.T) {
	brokers := itest.Kafka(t)
	rates, perClient := genHistory(10, 60)
	all := flatten(perClient)
	want := referenceOutcome(t, rates, perClient)
	murmur := kgo.StickyKeyPartitioner(nil)
	forwardedTotal := func(reg *prometheus.Registry, topics schemas.Topics) float64 {
		return metrictest.Sum(t, reg, "taskole_stream_repartitioned_total", "topic", string(topics.Enrollments)) +
			metrictest.Sum(t, reg, "taskole_stream_repartitioned_total", "topic", string(topics.Bookings))
	}

	t.Run("murmur2", func(t *testing.T) {
		topics := itest.Topics(t)
		prepare(t, brokers, topics, rates)
		var recs []*kgo.Record
		reg := runInProcess(t, brokers, topics, "g-"+itest.Unique(t), func() {
			recs = produceWith(t, brokers, topics, murmur, murmur, all)
		})
		if d := readOutcome(t, brokers, topics, want, 20*time.Second).diff(want); d != "" {
			t.Errorf("ledger differs from the reference:\n%s", d)
		}
		if n := forwardedTotal(reg, topics); n != 0 {
			t.Errorf("%v records forwarded with all-murmur2 producers, want 0 (direct path)", n)
		}
		checkDeadLetters(t, brokers, topics, all, recs)
	})

	t.Run("crc32", func(t *testing.T) {
		topics := itest.Topics(t)
		prepare(t, brokers, topics, rates)
		group := "g-" + itest.Unique(t)
		var recs []*kgo.Record
		reg := runInProcess(t, brokers, topics, group, func() {
			recs = produceWith(t, brokers, topics, crc32Partitioner(), crc32Partitioner(), all)
		})
		if d := readOutcome(t, brokers, topics, want, 20*time.Second).diff(want); d != "" {
			t.Errorf("ledger differs from the reference:\n%s", d)
		}
		// Exactly the records whose CRC32 partition is not their murmur2 partition are forwarded.
		misplaced := 0
		for _, r := range recs {
			if r.Partition != stream.KeyPartition(r.Key, coParts) {
				misplaced++
			}
		}
		if n := forwardedTotal(reg, topics); n != float64(misplaced) || misplaced == 0 {
			t.Errorf("forwarded %v records, want the %d not on their murmur2 partition", n, misplaced)
		}
		checkDeadLetters(t, brokers, topics, all, recs)
		// The group's committed offsets (what `taskole lag` reports) include the repartition topic.
		adm := kadm.NewClient(itest.Client(t, brokers))
		lags, err := adm.Lag(context.Background(), group)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := lags[group].Lag[RepartitionFor(topics)]; !ok {
			t.Errorf("group lag of %s does not list the repartition topic %s", group, RepartitionFor(topics))
		}
		// The first commit that handled forwarded records purged them (DeleteRecords).
		starts, err := adm.ListStartOffsets(context.Background(), RepartitionFor(topics))
		if err != nil {
			t.Fatal(err)
		}
		var purged int64
		starts.Each(func(o kadm.ListedOffset) { purged += o.Offset })
		if purged == 0 {
			t.Errorf("no record of the repartition topic was purged after being committed")
		}
	})

	t.Run("mixed with SIGKILL", func(t *testing.T) {
		topics := itest.Topics(t)
		prepare(t, brokers, topics, rates)
		prefix := topics.Prefix
		group := "g-" + itest.Unique(t)
		ledgers := newLedgers(t, brokers, topics, group)
		a := ledgers.start("a")
		// Half of the clients first, processed and committed; then the rest, and a SIGKILL
		// right after the first commit of it: state to restore, forwards in flight.
		first, second := flatten(perClient[:len(perClient)/2]), flatten(perClient[len(perClient)/2:])
		recs := produceWith(t, brokers, topics, murmur, crc32Partitioner(), first)
		waitSettled(t, brokers, prefix+group, topics, 60*time.Second)
		recs = append(recs, produceWith(t, brokers, topics, murmur, crc32Partitioner(), second)...)
		lag := killPoint(t, brokers, prefix+group, string(topics.Enrollments), string(topics.Bookings))
		t.Logf("SIGKILL with %d of %d input records left", lag, len(second))
		a.Kill()
		ledgers.start("a")
		waitSettled(t, brokers, prefix+group, topics, 90*time.Second)
		if d := readOutcome(t, brokers, topics, want, 20*time.Second).diff(want); d != "" {
			t.Errorf("ledger differs from the reference:\n%s", d)
		}
		checkDeadLetters(t, brokers, topics, all, recs)
	})

	t.Run("kcat", func(t *testing.T) {
		kcat, err := exec.LookPath("kcat")
		if err != nil {
			t.Fatalf("kcat not installed: %v", err)
		}
		few := perClient[:8]
		wantFew := referenceOutcome(t, rates, few)
		topics := itest.Topics(t)
		prepare(t, brokers, topics, rates)
		reg := runInProcess(t, brokers, topics, "g-"+itest.Unique(t), func() {
			for _, name := range []string{"enrollments", "bookings"} {
				var lines bytes.Buffer
				for _, in := range flatten(few) {
					if in.topic == name {
						fmt.Fprintf(&lines, "%s|%s\n", in.key, in.value)
					}
				}
				// kcat's own defaults: librdkafka's consistent_random partitioner.
				cmd := exec.Command(kcat, "-P", "-b", strings.Join(brokers, ","), "-t", topicOf(topics, name), "-K", "|")
				cmd.Stdin = &lines
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("kcat producing %s: %v\n%s", name, err, out)
				}
			}
		})
		if d := readOutcome(t, brokers, topics, wantFew, 20*time.Second).diff(wantFew); d != "" {
			t.Errorf("ledger differs from the reference:\n%s", d)
		}
		// kcat did not partition with murmur2: some of its records took the repartition path.
		if n := forwardedTotal(reg, topics); n == 0 {
			t.Errorf("no kcat record was forwarded: was it murmur2-partitioned?")
		}
	})
}
