package stream

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// DeadLetterMaxBytes is the size a dead-letter record never exceeds (key, value and headers):
// below the producer's default batch limit (kgo's 1,000,012 bytes) and the broker's default
// message.max.bytes (1,048,588), which the dead-letter topic is created with explicitly
// (DeadLetterTopicConfigs). A record whose dead letter would be larger gets its value cut to
// what fits, with the original size and SHA-256 (SPEC R8); the original stays in its topic.
const DeadLetterMaxBytes = 1_000_000 - 4096

// DeadLetterTopicConfigs are the configs the dead-letter topic is created with.
func DeadLetterTopicConfigs() map[string]string {
	return map[string]string{"max.message.bytes": "1048588"}
}

// Record headers of a dead letter: its id and the component that wrote it.
const (
	DeadLetterIDHeader       = "dlq_id"
	DeadLetterConsumerHeader = "dlq_consumer"
)

// maxKeptKey is the longest record key a dead letter repeats as its own key; a longer
// (hostile) key is cut in the record key, the value's "key" field keeps it whole if it fits.
const maxKeptKey = 64 << 10

// maxErrorText caps the error text of a dead letter.
const maxErrorText = 4096

// DeadLetterID is the id of the dead letter consumer writes for the record at
// topic/partition@offset: hex of the first 16 bytes of sha256(consumer ‖ 0 ‖ topic ‖ 0 ‖
// partition ‖ 0 ‖ offset), the numbers in decimal. The same refusal written twice has one id.
func DeadLetterID(consumer, topic string, partition int32, offset int64) string {
	in := make([]byte, 0, len(consumer)+len(topic)+32)
	in = append(in, consumer...)
	in = append(in, 0)
	in = append(in, topic...)
	in = append(in, 0)
	in = strconv.AppendInt(in, int64(partition), 10)
	in = append(in, 0)
	in = strconv.AppendInt(in, offset, 10)
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:16])
}

// DeadLetter builds the dead-letter record of rec (SPEC §4: keyed as received, SPEC R8: with
// a deterministic id, and always small enough for the dead-letter topic).
func DeadLetter(topic, consumer string, rec *kgo.Record, cause error, now time.Time) *kgo.Record {
	id := DeadLetterID(consumer, rec.Topic, rec.Partition, rec.Offset)
	msg := cause.Error()
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText] + "…(" + strconv.Itoa(len(msg)) + " bytes)"
	}
	key := rec.Key
	if len(key) > maxKeptKey {
		key = key[:maxKeptKey]
	}
	dl := schemas.DeadLetter{
		Topic:     rec.Topic,
		Partition: rec.Partition,
		Offset:    rec.Offset,
		Key:       rec.Key,
		Value:     rec.Value,
		Error:     msg,
		Consumer:  consumer,
		FailedAt:  now.UTC(),
		Reason:    Label(cause), // the poison label, low cardinality ("amount:invalid")
		ID:        id,
	}
	const overhead = 512 // record framing, header, the numbers and names of the envelope
	size := func(d schemas.DeadLetter) int {
		return len(key) + len(DeadLetterIDHeader) + len(id) + len(DeadLetterConsumerHeader) + 2*len(consumer) + overhead +
			base64.StdEncoding.EncodedLen(len(d.Key)) + base64.StdEncoding.EncodedLen(len(d.Value)) +
			len(d.Error)*6 + len(d.Topic) + len(d.Consumer) + len(d.Reason) + 200
	}
	if size(dl) > DeadLetterMaxBytes && len(dl.Key) > len(key) {
		dl.Key = key // a key too long to repeat whole is cut first
	}
	if size(dl) > DeadLetterMaxBytes {
		sum := sha256.Sum256(rec.Value)
		dl.OriginalBytes, dl.OriginalSHA256 = int64(len(rec.Value)), hex.EncodeToString(sum[:])
		room := DeadLetterMaxBytes - (size(dl) - base64.StdEncoding.EncodedLen(len(dl.Value)))
		dl.Value = rec.Value[:max(min(room/4*3, len(rec.Value)), 0)]
	}
	return &kgo.Record{Topic: topic, Key: key, Value: schemas.AppendDeadLetter(nil, dl),
		Headers: []kgo.RecordHeader{{Key: DeadLetterIDHeader, Value: []byte(id)}, {Key: DeadLetterConsumerHeader, Value: []byte(consumer)}}}
}
