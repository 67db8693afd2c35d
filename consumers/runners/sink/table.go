package sink

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// tp names one partition of one topic.
type tp struct {
	topic     string
	partition int32
}

// table is the insert buffer of one raw table: its columns in insert order (every raw table
// ends with meta's), the number of buffered rows and, per partition, the highest offset
// buffered (used to check whether an insert whose acknowledgement was lost did land).
type table struct {
	name  string
	cols  []namedCol
	rows  int
	last  map[tp]int64
	query string // INSERT INTO db.name (c1, c2, …)
	meta  meta
	// inserted is the batch's _inserted_at (stamp.go), the last column of every raw table.
	inserted stamp

	attempted bool // an insert of the current buffer was sent and failed
	// guarded: before each insert the sink checks that nobody stored the buffered partitions
	// beyond its marks (checkMarks); set for tables whose rows feed rollups.
	guarded bool
}

func (t *table) init(db, name string, cols []namedCol) {
	t.name = name
	t.cols = append(withUnix(append(cols, t.meta.cols()...)), namedCol{"_inserted_at", &t.inserted.col})
	t.last = map[tp]int64{}
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	t.query = "INSERT INTO " + db + "." + name + " (" + strings.Join(names, ", ") + ")"
}

// added counts one buffered row whose own columns are appended: it appends where the sink
// read r. The partition's last offset is noted once per fetched partition (noteLast), not
// per row.
func (t *table) added(r *kgo.Record) {
	t.meta.add(r)
	t.rows++
	t.inserted.note(r)
}

// noteLast records that the buffer holds records of k up to offset off.
func (t *table) noteLast(k tp, off int64) {
	if o, ok := t.last[k]; !ok || off > o {
		t.last[k] = off
	}
}

func (t *table) reset() {
	for _, c := range t.cols {
		c.col.reset()
	}
	t.inserted.reset()
	t.rows = 0
	t.attempted = false
	clear(t.last)
}

// secs splits a time into the DateTime column value and the sub-second nanoseconds.
func secs(t time.Time) (time.Time, uint32) { return t, uint32(t.Nanosecond()) }

// A record the sink cannot store — the decoder refused it or a value does not fit its column
// — is a *schemas.InvalidError; it becomes a dlq row labelled "<field>:<code>".

// invalidField refuses a value of field that is not one its column (or enum) holds.
func invalidField(field, format string, args ...any) *schemas.InvalidError {
	return schemas.FieldInvalid(field, false, fmt.Sprintf(format, args...))
}

// outOfRange refuses a value of field outside its column's range.
func outOfRange(field, format string, args ...any) *schemas.InvalidError {
	return schemas.FieldInvalid(field, true, fmt.Sprintf(format, args...))
}

// decodeErr is a decoder's refusal as the sink's: its field label, or "decode".
func decodeErr(err error) *schemas.InvalidError { return schemas.AsInvalid(err) }

func checkMoney(field string, v decimal.Decimal, spec decimalSpec) *schemas.InvalidError {
	if why := spec.check(v); why != "" {
		return outOfRange(field, "%s", why)
	}
	return nil
}

func checkTimeField(field string, t time.Time) *schemas.InvalidError {
	if why := checkTime(t); why != "" {
		return outOfRange(field, "%s", why)
	}
	return nil
}
