package ledger

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// occurredAtField is the JSON name of an input event's event time (enrollments and bookings).
var occurredAtField = []byte(`"occurred_at"`)

// eventTime is the ledger's stream.Config.Timestamp: the occurred_at of an enrollment or a
// booking, read from the value without decoding the rest. It merges a partition's
// enrollments and bookings in event time, so a client's booking is judged after every earlier
// enrollment that is not late (R5 then corrects nothing), whatever the pace of each topic.
// A value without a readable occurred_at (refused by the handler) reports ok false.
func eventTime(rec *kgo.Record) (time.Time, bool) {
	v := rec.Value
	for {
		i := bytes.Index(v, occurredAtField)
		if i < 0 {
			return time.Time{}, false
		}
		v = v[i+len(occurredAtField):]
		j := skipSpace(v, 0)
		if j >= len(v) || v[j] != ':' {
			continue // the name inside a string, say; look further
		}
		j = skipSpace(v, j+1)
		if j >= len(v) || v[j] != '"' {
			return time.Time{}, false
		}
		end := bytes.IndexByte(v[j+1:], '"')
		if end < 0 {
			return time.Time{}, false
		}
		t, err := schemas.ParseTime(string(v[j+1 : j+1+end]))
		if err != nil || t.IsZero() {
			return time.Time{}, false
		}
		return t, true
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
