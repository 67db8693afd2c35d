package stream

import "github.com/twmb/franz-go/pkg/kgo"

// Header returns the value of r's first header named key, and whether it has one.
func Header(r *kgo.Record, key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

// DeadLetterOf reports whether r is a dead letter that consumer wrote (its
// DeadLetterConsumerHeader).
func DeadLetterOf(r *kgo.Record, consumer string) bool {
	v, ok := Header(r, DeadLetterConsumerHeader)
	return ok && string(v) == consumer
}
