package stream

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKeyPartitionMatchesKafka pins KeyPartition to the partition franz-go's default
// partitioner (Kafka's murmur2, as Java's producer computes it) gives a keyed record, for
// keys of every length modulo 4 and several partition counts.
func TestKeyPartitionMatchesKafka(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	def := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	keys := [][]byte{[]byte("a"), []byte("ab"), []byte("abc"), []byte("abcd"), []byte("client-42"), {0xff, 0x80, 0x00}}
	for i := 0; i < 2000; i++ {
		k := make([]byte, rng.IntN(40)+1)
		for j := range k {
			k[j] = byte(rng.UintN(256))
		}
		keys = append(keys, k)
	}
	for _, n := range []int{1, 3, 4, 12, 64} {
		for _, k := range keys {
			want := def.Partition(&kgo.Record{Key: k}, n)
			if got := KeyPartition(k, int32(n)); int(got) != want {
				t.Fatalf("KeyPartition(%x, %d) = %d, kgo says %d", k, n, got, want)
			}
		}
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		key  []byte
		part int32
		want int32
	}{
		{nil, 3, 3}, // keyless: judged where it is (the handler refuses it)
		{[]byte{}, 2, 2},
		{[]byte("client-42"), 0, KeyPartition([]byte("client-42"), 4)},
		{[]byte("client-42"), KeyPartition([]byte("client-42"), 4), KeyPartition([]byte("client-42"), 4)},
	} {
		if got := route(&kgo.Record{Key: tc.key, Partition: tc.part}, 4); got != tc.want {
			t.Errorf("route(%q on %d) = %d, want %d", tc.key, tc.part, got, tc.want)
		}
	}
}

// TestForwardedUnwrap: a forwarded record reads back as the original (coordinates, key, value,
// timestamp, headers); one without a valid origin is refused.
func TestForwardedUnwrap(t *testing.T) {
	orig := &kgo.Record{Topic: "in.bookings", Partition: 7, Offset: 1<<40 + 3, Key: []byte("c1"), Value: []byte(`{"x":1}`),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}}
	fw := forwarded("repart", orig, 2)
	if fw.Topic != "repart" || fw.Partition != 2 || string(fw.Key) != "c1" || string(fw.Value) != `{"x":1}` {
		t.Fatalf("forwarded record %+v", fw)
	}
	got, err := unwrap(fw, []string{"in.enrollments", "in.bookings"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Topic != orig.Topic || got.Partition != orig.Partition || got.Offset != orig.Offset ||
		string(got.Key) != "c1" || string(got.Value) != `{"x":1}` || len(got.Headers) != 1 || got.Headers[0].Key != "trace" {
		t.Fatalf("unwrapped %+v, want %+v", got, orig)
	}
	for i, bad := range []*kgo.Record{
		{Topic: "repart"},
		{Topic: "repart", Headers: []kgo.RecordHeader{{Key: originHeader, Value: []byte("short")}}},
		forwarded("repart", &kgo.Record{Topic: "elsewhere"}, 0),
	} {
		if _, err := unwrap(bad, []string{"in.bookings"}); err == nil {
			t.Errorf("case %d: unwrap accepted %+v", i, bad)
		}
	}
}

// BenchmarkRoute is the direct path's whole extra cost per record: one murmur2 of the key.
func BenchmarkRoute(b *testing.B) {
	recs := make([]*kgo.Record, 1024)
	for i := range recs {
		recs[i] = &kgo.Record{Key: []byte(fmt.Sprintf("client-%08d", i))}
		recs[i].Partition = KeyPartition(recs[i].Key, 12)
	}
	b.ReportAllocs()
	b.ResetTimer()
	direct := 0
	for i := 0; i < b.N; i++ {
		r := recs[i&1023]
		if route(r, 12) == r.Partition {
			direct++
		}
	}
	if direct != b.N {
		b.Fatal("a murmur2-placed record was routed away")
	}
}
