// Package statelog writes a synthetic ledger changelog of any number of clients, so that the
// ledger's restore time, state size and memory can be measured at scales (1M, 10M clients)
// the whole pipeline cannot be simulated at on one machine.
//
// The synthetic state is calibrated on a real one: Sample reads a real ledger changelog
// (taskole.ledger-state.v1 of a `taskole simulate` run) to its end and keeps the latest value
// of every client, each decoded and re-encoded with the ledger's own codec
// (commission.Engine.UnmarshalState, commission.State.AppendBinary) — what the ledger keeps
// per client: the owner entry and the bookings within the horizon. Generate then writes n
// clients: client i gets a fresh client id (ClientID) and the value of sample client i mod
// len(sample), so the size distribution of the values (owner-only clients, clients with
// many bookings) is the real run's, repeated. Each record is keyed the way the stream
// processor keys a state (stream.ChangelogKey) and lands in the partition of its client id
// (stream.KeyPartition), where the ledger looks for it.
//
// What it is not: the changelog is compacted (one record per client, no superseded values
// and no per-partition metadata records), and the values of copies of one sample client are
// equal (Kafka's batch compression does not see it: the copies are len(sample) records apart).
package statelog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/pipelines/commission"
)

// Sample is the latest state of every client of a real changelog, re-encoded.
type Sample struct {
	Values  [][]byte // one per client, in client id order
	Records int64    // changelog records read (state, tombstones and metadata)
	Bytes   int64    // the sum of len(Values)
}

// Codec round-trips a client's changelog value through the ledger's state codec.
type Codec struct {
	eng *commission.Engine
	s   commission.State
}

// NewCodec returns a Codec with the ledger's default rules (the codec does not depend on
// them).
func NewCodec() (*Codec, error) {
	eng, err := commission.New(commission.Config{}, commission.NewRates())
	if err != nil {
		return nil, fmt.Errorf("creating the commission engine: %w", err)
	}
	return &Codec{eng: eng}, nil
}

// Reencode decodes value as the ledger does on restore and appends its encoding to dst.
func (c *Codec) Reencode(dst, value []byte) ([]byte, error) {
	c.s = commission.State{}
	if err := c.eng.UnmarshalState(&c.s, value); err != nil {
		return dst, fmt.Errorf("decoding a state: %w", err)
	}
	if c.s.Empty() {
		return dst, errors.New("decoding a state: empty (the ledger writes a tombstone instead)")
	}
	return c.s.AppendBinary(dst)
}

// Record is the changelog record of client id's state value in a changelog of partitions
// partitions.
func Record(topic, id string, value []byte, partitions int32) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: stream.ChangelogKey(id), Value: value,
		Partition: stream.KeyPartition([]byte(id), partitions)}
}

// ClientID is the id of synthetic client i of n: "cs-" and i zero-padded to the width of n-1
// (the shape of `taskole simulate`'s client ids).
func ClientID(i, n int) string {
	w := len(strconv.Itoa(max(n-1, 0)))
	s := strconv.Itoa(i)
	for len(s) < w {
		s = "0" + s
	}
	return "cs-" + s
}

// ReadSample reads the changelog topic through cl to the end offsets it has now
// (read_committed) and returns the latest state value of every client, in client id order.
func ReadSample(ctx context.Context, cl *kgo.Client, topic string) (Sample, error) {
	ends, err := endOffsets(ctx, cl, topic)
	if err != nil {
		return Sample{}, err
	}
	consume := map[int32]kgo.Offset{}
	for p := range ends {
		consume[p] = kgo.NewOffset().AtStart()
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: keysOf(consume)})
	codec, err := NewCodec()
	if err != nil {
		return Sample{}, err
	}
	sp := sampler{codec: codec, latest: map[string][]byte{}}
	catch := stream.NewCatchUp(ends)
	for !catch.Done() {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return Sample{}, ctx.Err()
		}
		if fetches.Empty() && catch.Idle() {
			break // the rest is compacted away or transaction markers
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return Sample{}, fmt.Errorf("reading %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		var ferr error
		fetches.EachRecord(func(r *kgo.Record) {
			if catch.Note(r) && !r.Attrs.IsControl() {
				ferr = errors.Join(ferr, sp.add(r))
			}
		})
		if ferr != nil {
			return Sample{}, ferr
		}
	}
	return sp.sample(topic)
}

// endOffsets lists the end offset of every partition of topic.
func endOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	out, err := stream.EndOffsets(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reading %s: no partitions", topic)
	}
	return out, nil
}

// sampler keeps the latest re-encoded value of every client of the records added.
type sampler struct {
	codec   *Codec
	latest  map[string][]byte
	records int64
}

func (sp *sampler) add(r *kgo.Record) error {
	sp.records++
	id, ok := stream.StateKey(r.Key)
	if !ok {
		return nil // partition metadata
	}
	if r.Value == nil {
		delete(sp.latest, id)
		return nil
	}
	v, err := sp.codec.Reencode(nil, r.Value)
	if err != nil {
		return fmt.Errorf("client %q at %s/%d@%d: %w", id, r.Topic, r.Partition, r.Offset, err)
	}
	sp.latest[id] = v
	return nil
}

func (sp *sampler) sample(topic string) (Sample, error) {
	if len(sp.latest) == 0 {
		return Sample{}, fmt.Errorf("reading %s: no client state", topic)
	}
	out := Sample{Records: sp.records}
	for _, id := range slices.Sorted(maps.Keys(sp.latest)) {
		v := sp.latest[id]
		out.Values = append(out.Values, v)
		out.Bytes += int64(len(v))
	}
	return out, nil
}

func keysOf(m map[int32]kgo.Offset) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Written is what Generate wrote.
type Written struct {
	Records int64
	Bytes   int64 // keys and values
}

// Generate produces clients records to topic (partitions partitions) through cl: client i
// is ClientID(i, clients) with sample.Values[i mod len]. It returns once every record is
// acknowledged.
func Generate(ctx context.Context, cl *kgo.Client, topic string, partitions int32, sample Sample, clients int) (Written, error) {
	if len(sample.Values) == 0 {
		return Written{}, errors.New("generating a changelog: empty sample")
	}
	if partitions <= 0 {
		return Written{}, errors.New("generating a changelog: no partitions")
	}
	var (
		w     Written
		mu    sync.Mutex
		first error
		fail  = func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}
	)
	for i := 0; i < clients; i++ {
		r := Record(topic, ClientID(i, clients), sample.Values[i%len(sample.Values)], partitions)
		w.Records++
		w.Bytes += int64(len(r.Key) + len(r.Value))
		cl.Produce(ctx, r, fail)
		if i%100_000 == 99_999 && ctx.Err() != nil {
			break
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return w, fmt.Errorf("flushing the changelog: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		return w, fmt.Errorf("producing the changelog: %w", first)
	}
	return w, ctx.Err()
}

// TopicBytes is the size of the log segments of topic's partitions 0..partitions-1 on the
// brokers (every replica), per DescribeAllLogDirs.
func TopicBytes(ctx context.Context, cl *kgo.Client, topic string, partitions int32) (int64, error) {
	var set kadm.TopicsSet
	for p := range partitions {
		set.Add(topic, p)
	}
	dirs, err := kadm.NewClient(cl).DescribeAllLogDirs(ctx, set)
	if err != nil {
		return 0, fmt.Errorf("describing the log dirs of %s: %w", topic, err)
	}
	var n int64
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic == topic {
				n += p.Size
			}
		})
	})
	return n, nil
}
