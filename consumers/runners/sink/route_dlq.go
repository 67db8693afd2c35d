package sink

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

// dlqRows are the own columns of the dlq table: the pipeline's dead-letter topic as it was
// written, and the records the sink itself refuses.
type dlqRows struct {
	sourceTopic                       strCol
	sourcePartition                   i32Col
	sourceOffset                      i64Col
	key, value, errText, label, owner strCol
	failedAt                          timeCol
}

// deadLetters is the route of the dead-letter topic, which also takes the sink's own
// refusals (addFailed).
type deadLetters struct {
	*rowsOf[schemas.DeadLetter]
	c *dlqRows
}

// dlqRoute skips the sink's own dead letters: their dlq row was stored with the refused
// record.
func dlqRoute(rc routeConfig) route {
	c := &dlqRows{}
	r := newRoute(rc, "dlq", []namedCol{
		{"source_topic", &c.sourceTopic}, {"source_partition", &c.sourcePartition},
		{"source_offset", &c.sourceOffset}, {"key", &c.key}, {"value", &c.value},
		{"error", &c.errText}, {"error_label", &c.label}, {"consumer", &c.owner},
		{"failed_at", &c.failedAt},
	}, schemas.DecodeDeadLetter, nil, c.addLetter)
	r.skips = func(rec *kgo.Record) bool { return ownDeadLetter(rec, rc.consumer) }
	return &deadLetters{rowsOf: r, c: c}
}

// ownDeadLetter reports whether r is a dead letter written by consumer (its header).
func ownDeadLetter(r *kgo.Record, consumer string) bool {
	v, ok := header(r, stream.DeadLetterConsumerHeader)
	return ok && string(v) == consumer
}

// header returns the value of r's first header named key, and whether it has one.
func header(r *kgo.Record, key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

// addLetter stores a record of the pipeline's dead-letter topic as it was written.
func (c *dlqRows) addLetter(v *schemas.DeadLetter) {
	c.sourceTopic = append(c.sourceTopic, v.Topic)
	c.sourcePartition = append(c.sourcePartition, v.Partition)
	c.sourceOffset = append(c.sourceOffset, v.Offset)
	c.key = append(c.key, string(v.Key))
	c.value = append(c.value, string(v.Value))
	c.errText = append(c.errText, v.Error)
	c.label = append(c.label, v.Reason) // the producer's poison label; "" from producers that set none
	c.owner = append(c.owner, v.Consumer)
	fa := v.FailedAt
	if checkTime(fa) != "" {
		fa = minDateTime
	}
	c.failedAt = append(c.failedAt, fa)
}

// addFailed stores a record the sink itself could not store.
func (d *deadLetters) addFailed(r *kgo.Record, e *schemas.InvalidError, consumer string, now time.Time) {
	c := d.c
	c.sourceTopic = append(c.sourceTopic, r.Topic)
	c.sourcePartition = append(c.sourcePartition, r.Partition)
	c.sourceOffset = append(c.sourceOffset, r.Offset)
	c.key = append(c.key, string(r.Key))
	c.value = append(c.value, string(r.Value))
	c.errText = append(c.errText, e.Error())
	c.label = append(c.label, e.Label())
	c.owner = append(c.owner, consumer)
	c.failedAt = append(c.failedAt, now)
	d.table.added(r)
}
