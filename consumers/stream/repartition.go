package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// Co-partitioning (Config.Repartition). Producers may partition as they like (librdkafka's
// default is CRC32, Java's and franz-go's murmur2), but the processor keeps a key's state on
// one partition: KeyPartition(key). A record read on another partition is forwarded, bytes
// unchanged, to the repartition topic's partition KeyPartition(key) inside the open
// transaction (with the offsets of the input it came from), and handled when it is read back
// from there, as if it had been read from its original coordinates, which an origin header
// carries (dead letters name them). A record already on its partition is handled directly:
// the direct path costs one murmur2 hash.

// originHeader names the header that carries a forwarded record's original coordinates:
// partition (4 bytes, big endian), offset (8 bytes, big endian), then the topic name.
const originHeader = "taskole-origin"

// KeyPartition returns the partition of key among n as Kafka's default partitioner (Java's
// and franz-go's StickyKeyPartitioner) places a keyed record: murmur2(key), sign bit cleared,
// modulo n.
func KeyPartition(key []byte, n int32) int32 {
	return int32(murmur2(key)&0x7fffffff) % n
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed, over the little-endian 4-byte words of
// data, as Kafka's Utils.murmur2 computes it.
func murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
	)
	h := uint32(seed) ^ uint32(len(data))
	n := len(data) &^ 3
	for i := 0; i < n; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
	}
	switch tail := data[n:]; len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// route returns the partition whose state rec belongs to: KeyPartition of its key, or its own
// partition when it has no key (the handler then judges it where it is; keyless records are
// refused by a handler that checks its key).
func route(rec *kgo.Record, n int32) int32 {
	if len(rec.Key) == 0 {
		return rec.Partition
	}
	return KeyPartition(rec.Key, n)
}

// forwarded returns the repartition record of rec for partition to: key, value, timestamp and
// headers as read, plus the origin header.
func forwarded(topic string, rec *kgo.Record, to int32) *kgo.Record {
	origin := make([]byte, 12, 12+len(rec.Topic))
	binary.BigEndian.PutUint32(origin, uint32(rec.Partition))
	binary.BigEndian.PutUint64(origin[4:], uint64(rec.Offset))
	origin = append(origin, rec.Topic...)
	hs := make([]kgo.RecordHeader, 0, len(rec.Headers)+1)
	hs = append(append(hs, rec.Headers...), kgo.RecordHeader{Key: originHeader, Value: origin})
	return &kgo.Record{Topic: topic, Partition: to, Key: rec.Key, Value: rec.Value, Timestamp: rec.Timestamp, Headers: hs}
}

var errNoOrigin = errors.New("no valid origin header")

// unwrap returns the record rec was forwarded from: its original topic, partition, offset and
// headers, with rec's key, value and timestamp. The topic must be one of inputs.
func unwrap(rec *kgo.Record, inputs []string) (*kgo.Record, error) {
	for i, h := range rec.Headers {
		if h.Key != originHeader {
			continue
		}
		if len(h.Value) < 13 {
			return nil, errNoOrigin
		}
		topic := string(h.Value[12:])
		if !slices.Contains(inputs, topic) {
			return nil, fmt.Errorf("origin topic %.64q is not an input: %w", topic, errNoOrigin)
		}
		hs := append(slices.Clone(rec.Headers[:i]), rec.Headers[i+1:]...)
		return &kgo.Record{
			Topic:     topic,
			Partition: int32(binary.BigEndian.Uint32(h.Value)),
			Offset:    int64(binary.BigEndian.Uint64(h.Value[4:])),
			Key:       rec.Key, Value: rec.Value, Timestamp: rec.Timestamp, Headers: hs,
		}, nil
	}
	return nil, errNoOrigin
}

// badOrigin refuses a forwarded record whose origin header does not read: it is poison.
func badOrigin(err error) error {
	return schemas.Refused(schemas.LabelRepartitionOrigin, fmt.Errorf("reading forwarded record: %w", err))
}
