package topology

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Columns receives the own columns of one row of a raw ClickHouse table, in table order, one
// method per column type. The sink implements it three times: to learn a table's layout, to
// check every value against its column (a value a column cannot hold exactly refuses the
// record) and to append the values to its column buffers. A row function calls the same
// methods in the same order for every value; the sink adds the columns every raw table ends
// with (_topic, _partition, _offset, _inserted_at) and the <name>_unix companion of every
// DateTime.
type Columns interface {
	String(name, v string)
	Strings(name string, v []string)      // Array(String)
	Money(name string, v decimal.Decimal) // Decimal(18, 4)
	Rate(name string, v decimal.Decimal)  // Decimal(38, 10)
	// Enum8 is a code of a schemas.Enum; unknown is "" for a known value, else the refusal's
	// text.
	Enum8(name string, code int8, unknown string)
	Int8(name string, v int64) // a signed count (Int8), not an enum
	UInt8(name string, v int64)
	UInt32(name string, v int64)
	Int32(name string, v int32)
	Int64(name string, v int64)
	Time(name string, v time.Time)   // DateTime('UTC')
	TimeNs(name string, v time.Time) // DateTime('UTC'), then <name>_ns UInt32: the nanoseconds
	// Stamp is a DateTime that refuses nothing: a time before 1970 is stored as 1970 (the
	// time a dead letter was written, which only records what happened).
	Stamp(name string, v time.Time)
}

// Checker is a Columns that judges the values walked through it.
type Checker interface {
	Columns
	// Refusal returns why the values walked through it since the last call cannot be
	// stored, or nil; it starts the next row.
	Refusal() *schemas.InvalidError
}

// Rows is how the sink turns a topic's records into rows of the topic's raw table (Topic.Table):
// the topic's decoder and its row mapping.
type Rows interface {
	// Layout walks the columns of a row through c (their names and types; the values are a
	// zero event's).
	Layout(c Columns)
	// Judge decodes value and walks its row through check; when check refuses nothing and
	// add is not nil, through add. It returns the decoder's error or the check's refusal.
	Judge(b schemas.Bounds, value []byte, check Checker, add Columns) error
}

// Mapping is the Rows of a topic whose values decode to a T.
type Mapping[T any] struct {
	decode func(schemas.Bounds, []byte) (T, error)
	row    func(*T, Columns)
}

// Map returns the Rows of values decoded by decode, row giving the columns of each.
func Map[T any](decode func(schemas.Bounds, []byte) (T, error), row func(*T, Columns)) *Mapping[T] {
	return &Mapping[T]{decode: decode, row: row}
}

// Unbounded adapts a decoder that takes no schemas.Bounds (the pipeline's own outputs).
func Unbounded[T any](decode func([]byte) (T, error)) func(schemas.Bounds, []byte) (T, error) {
	return func(_ schemas.Bounds, b []byte) (T, error) { return decode(b) }
}

// Layout implements Rows.
func (m *Mapping[T]) Layout(c Columns) {
	var zero T
	m.row(&zero, c)
}

// Judge implements Rows.
func (m *Mapping[T]) Judge(b schemas.Bounds, value []byte, check Checker, add Columns) error {
	v, err := m.decode(b, value)
	if err != nil {
		return err
	}
	m.row(&v, check)
	if e := check.Refusal(); e != nil {
		return e
	}
	if add != nil {
		m.row(&v, add)
	}
	return nil
}

// Row walks the columns of v through c (a row the sink makes itself: its own dead letters).
func (m *Mapping[T]) Row(v *T, c Columns) { m.row(v, c) }

// enum8 walks the Enum8 column name of v's code in e.
func enum8[E comparable](c Columns, name string, e schemas.Enum[E], v E) {
	code, ok := e.Code(v)
	unknown := ""
	if !ok {
		unknown = e.Unknown(name, v)
	}
	c.Enum8(name, code, unknown)
}
