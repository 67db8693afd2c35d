package sink

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"
)

// column is one column buffer of a table: a typed slice handed to clickhouse-go in one
// columnar Append per batch (batch.Column(i).Append(slice)), reset and reused afterwards.
type column interface {
	appendTo(c driver.BatchColumn) error
	reset()
}

type (
	strCol    []string
	decCol    []decimal.Decimal
	timeCol   []time.Time
	u8Col     []uint8
	i8Col     []int8
	u32Col    []uint32
	i32Col    []int32
	u64Col    []uint64
	i64Col    []int64
	strArrCol [][]string
)

func (c *strCol) appendTo(b driver.BatchColumn) error    { return b.Append([]string(*c)) }
func (c *decCol) appendTo(b driver.BatchColumn) error    { return b.Append([]decimal.Decimal(*c)) }
func (c *timeCol) appendTo(b driver.BatchColumn) error   { return b.Append(clampDateTimes(*c)) }
func (c *u8Col) appendTo(b driver.BatchColumn) error     { return b.Append([]uint8(*c)) }
func (c *i8Col) appendTo(b driver.BatchColumn) error     { return b.Append([]int8(*c)) }
func (c *u32Col) appendTo(b driver.BatchColumn) error    { return b.Append([]uint32(*c)) }
func (c *i32Col) appendTo(b driver.BatchColumn) error    { return b.Append([]int32(*c)) }
func (c *u64Col) appendTo(b driver.BatchColumn) error    { return b.Append([]uint64(*c)) }
func (c *i64Col) appendTo(b driver.BatchColumn) error    { return b.Append([]int64(*c)) }
func (c *strArrCol) appendTo(b driver.BatchColumn) error { return b.Append([][]string(*c)) }

func (c *strCol) reset()    { clear(*c); *c = (*c)[:0] }
func (c *decCol) reset()    { clear(*c); *c = (*c)[:0] }
func (c *timeCol) reset()   { *c = (*c)[:0] }
func (c *u8Col) reset()     { *c = (*c)[:0] }
func (c *i8Col) reset()     { *c = (*c)[:0] }
func (c *u32Col) reset()    { *c = (*c)[:0] }
func (c *i32Col) reset()    { *c = (*c)[:0] }
func (c *u64Col) reset()    { *c = (*c)[:0] }
func (c *i64Col) reset()    { *c = (*c)[:0] }
func (c *strArrCol) reset() { clear(*c); *c = (*c)[:0] }

// unixCol is the exact companion of a DateTime column (migration 0120): the whole seconds
// since 1970 of its times as Int64, unclamped. It reads its source's buffer at append time.
type unixCol struct{ src *timeCol }

func (c unixCol) appendTo(b driver.BatchColumn) error {
	s := make([]int64, len(*c.src))
	for i, t := range *c.src {
		s[i] = t.Unix()
	}
	return b.Append(s)
}

func (unixCol) reset() {}

// withUnix adds the exact companion <name>_unix after every event-time column of cols (the
// DateTime columns the sink writes; "_"-prefixed bookkeeping columns have none).
func withUnix(cols []namedCol) []namedCol {
	out := make([]namedCol, 0, len(cols)+2)
	for _, c := range cols {
		out = append(out, c)
		if tc, ok := c.col.(*timeCol); ok && !strings.HasPrefix(c.name, "_") {
			out = append(out, namedCol{c.name + "_unix", unixCol{tc}})
		}
	}
	return out
}

// clampDateTimes returns ts with every time after the DateTime ceiling (2105-12-31 23:59:59
// UTC) replaced by the ceiling: a valid event dated later (SPEC R8 allows up to 2200) is stored, its
// DateTime column saturated and its exact time in the <column>_unix companion. Without the
// clamp the driver would wrap the seconds modulo 2^32 silently. ts itself is left as it is
// (the companion reads it); a copy is made only when a time needs the clamp.
func clampDateTimes(ts []time.Time) []time.Time {
	var out []time.Time
	for i, t := range ts {
		if t.After(dateTimeCeiling) {
			if out == nil {
				out = slices.Clone(ts)
			}
			out[i] = dateTimeCeiling
		}
	}
	if out == nil {
		return ts
	}
	return out
}

// namedCol binds a column buffer to its ClickHouse column name.
type namedCol struct {
	name string
	col  column
}

// meta holds the columns every raw table ends with: where the sink read the record.
type meta struct {
	topic     strCol
	partition u32Col
	offset    u64Col
}

func (m *meta) add(r *kgo.Record) {
	m.topic = append(m.topic, r.Topic)
	m.partition = append(m.partition, uint32(r.Partition))
	m.offset = append(m.offset, uint64(r.Offset))
}

func (m *meta) cols() []namedCol {
	return []namedCol{{"_topic", &m.topic}, {"_partition", &m.partition}, {"_offset", &m.offset}}
}

// Column limits of sql/migrations/0001_raw.sql. A value outside them would be truncated or
// wrapped silently by the driver, so the sink dead-letters the record instead.
var (
	money = decimalSpec{scale: 4, intDigits: 14}  // Decimal(18, 4)
	rate  = decimalSpec{scale: 10, intDigits: 28} // Decimal(38, 10)
)

type decimalSpec struct {
	scale     int32 // digits after the point
	intDigits int32 // digits before the point
}

// check returns why d does not fit the column exactly, or "".
func (s decimalSpec) check(d decimal.Decimal) string {
	if exp := d.Exponent(); exp < -s.scale {
		// More places than the column holds is fine only when they are trailing zeros.
		if !d.Equal(d.Truncate(s.scale)) {
			return fmt.Sprintf("%s has more than %d decimal places", d.String(), s.scale)
		}
	}
	// |d| < 10^intDigits: the digits of the coefficient plus the exponent are the digits
	// before the point (NumDigits does not allocate for int64 coefficients).
	if n := int32(d.NumDigits()) + d.Exponent(); n > s.intDigits {
		return fmt.Sprintf("%s does not fit %d integer digits", d.String(), s.intDigits)
	}
	return ""
}

// DateTime holds seconds since 1970 in a UInt32 (to 2106-02-07 06:28:15), but ClickHouse
// 18.16's calendar ends with 2105 (its DateLUT): toDate('2106-01-01') is 0000-00-00, so no
// query could name a day of 2106, and toStartOfMonth is wrong from 2106-02-07. A time after
// the ceiling 2105-12-31 23:59:59 UTC is stored clamped to it, exactly in the _unix
// companion (clampDateTimes); a time before 1970 cannot be stored.
var (
	minDateTime     = time.Unix(0, 0)
	dateTimeCeiling = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

func checkTime(t time.Time) string {
	if t.Before(minDateTime) {
		return t.Format(time.RFC3339Nano) + " is before DateTime's start (1970)"
	}
	return ""
}
