package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchState is a state shaped like the consumers' (an owner and a few bookings with an id,
// an amount and a time), 40–180 bytes in the changelog, decoded with varints and strings.
type benchState struct {
	owner    string
	bookings []benchBooking
}

type benchBooking struct {
	id     string
	amount int64
	at     int64
}

type benchHandler struct{}

func (benchHandler) Handle(context.Context, *kgo.Record, *Tx[benchState]) error { return nil }

func (benchHandler) AppendState(dst []byte, s *benchState) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(s.owner)))
	dst = append(dst, s.owner...)
	dst = binary.AppendUvarint(dst, uint64(len(s.bookings)))
	for _, b := range s.bookings {
		dst = binary.AppendUvarint(dst, uint64(len(b.id)))
		dst = append(dst, b.id...)
		dst = binary.AppendVarint(dst, b.amount)
		dst = binary.AppendVarint(dst, b.at)
	}
	return dst, nil
}

var errBenchState = errors.New("bad bench state")

func (benchHandler) UnmarshalState(s *benchState, data []byte) error {
	str := func() (string, bool) {
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return "", false
		}
		v := string(data[k : k+int(n)])
		data = data[k+int(n):]
		return v, true
	}
	vint := func() (int64, bool) {
		v, k := binary.Varint(data)
		if k <= 0 {
			return 0, false
		}
		data = data[k:]
		return v, true
	}
	var ok bool
	if s.owner, ok = str(); !ok {
		return errBenchState
	}
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return errBenchState
	}
	data = data[k:]
	s.bookings = make([]benchBooking, n)
	for i := range s.bookings {
		b := &s.bookings[i]
		if b.id, ok = str(); !ok {
			return errBenchState
		}
		if b.amount, ok = vint(); !ok {
			return errBenchState
		}
		if b.at, ok = vint(); !ok {
			return errBenchState
		}
	}
	if len(data) != 0 {
		return errBenchState
	}
	return nil
}

func (benchHandler) EmptyState(s *benchState) bool { return s.owner == "" && len(s.bookings) == 0 }

// BenchmarkRestore restores one changelog partition of 200,000 records (about 50,000 keys,
// each written 4 times, values of 40–180 bytes, a watermark record every 1,000) from kfake.
func BenchmarkRestore(b *testing.B) {
	const records, keys = 200_000, 50_000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, fxChangelog))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(fxChangelog),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var h benchHandler
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	recs := make([]*kgo.Record, 0, 10_000)
	distinct := map[int]bool{}
	for i := range records {
		k := i % keys
		var r *kgo.Record
		if i%1000 == 999 {
			r = &kgo.Record{Key: []byte(metaWatermark), Value: encodeWatermark(int64(i) * int64(time.Second))}
		} else {
			distinct[k] = true
			s := benchState{owner: fmt.Sprintf("owner-%06d", k)}
			for j := range 1 + rng.IntN(5) {
				s.bookings = append(s.bookings, benchBooking{id: fmt.Sprintf("bk-%08d-%d", i, j), amount: rng.Int64N(1e9), at: int64(i) * 1e9})
			}
			v, _ := h.AppendState(nil, &s)
			r = &kgo.Record{Key: append([]byte{stateKeyPrefix}, fmt.Sprintf("client-%08d", k)...), Value: v}
		}
		recs = append(recs, r)
		if len(recs) == cap(recs) || i == records-1 {
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	p, err := New(Config{Brokers: c.ListenAddrs(), Name: "bench", Group: "bench", Inputs: []string{fxIn},
		Changelog: fxChangelog, Logger: testLog(), LazyRestore: true}, benchHandler{})
	if err != nil {
		b.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		parts, err := p.restore(ctx, adm, []int32{0})
		if err != nil {
			b.Fatal(err)
		}
		if n := parts[0].len(); n != len(distinct) {
			b.Fatalf("restored %d keys, want %d", n, len(distinct))
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
