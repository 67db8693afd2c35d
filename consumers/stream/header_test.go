package stream

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestHeader(t *testing.T) {
	r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: DeadLetterConsumerHeader, Value: []byte("sink")}, {Key: "a", Value: []byte("2")}}}
	for _, tt := range []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"a", "1", true}, // the first of two
		{DeadLetterConsumerHeader, "sink", true},
		{"b", "", false},
	} {
		if v, ok := Header(r, tt.key); string(v) != tt.want || ok != tt.wantOK {
			t.Errorf("Header(%q) = %q, %v; want %q, %v", tt.key, v, ok, tt.want, tt.wantOK)
		}
	}
	if !DeadLetterOf(r, "sink") || DeadLetterOf(r, "ledger") || DeadLetterOf(&kgo.Record{}, "sink") {
		t.Error("DeadLetterOf: want true for sink only")
	}
}
