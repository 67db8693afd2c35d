package sink

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/schemas"
)

// route is how the records of one topic become rows of its raw table: the topology's row
// mapping (topology.Topic.Rows: decode, then one value per column) walked through the sink's
// checks (checker) and its column buffers (buffers). The sink declares no table of its own.
type route struct {
	table
	mapping topology.Rows
	bounds  schemas.Bounds
	skipHdr string                                // records with this header make no row (topology.Topic.Skip)
	buf     buffers                               // the table's own columns
	chk     checker                               // the checks of the sink's loop (the judge has its own)
	own     string                                // the dlq route: the consumer whose dead letters make no row (stored with the refused record)
	dead    *topology.Mapping[schemas.DeadLetter] // the dlq route: how the sink's own refusals become rows
}

// routeConfig is what a route's constructor needs.
type routeConfig struct {
	db       string
	bounds   schemas.Bounds
	consumer string // the sink's consumer name (its own dead letters carry it)
}

// routesOf returns the route of every topic of tp that the sink copies, by topic name, their
// tables in the order the topology lists them (the order of a flush's inserts), and the route
// of the dead-letter topic, which also takes the sink's own refusals.
func routesOf(tp topology.Topology, rc routeConfig) (map[string]*route, []*table, *route, error) {
	routes := map[string]*route{}
	var tables []*table
	var dlq *route
	for _, t := range tp.Topics() {
		if t.Rows == nil {
			continue
		}
		if _, dup := routes[t.Name]; dup {
			return nil, nil, nil, fmt.Errorf("topic %s is declared twice", t.Name)
		}
		rt := newRoute(t, rc)
		if t.Name == string(tp.Names().DLQ) {
			d, ok := t.Rows.(*topology.Mapping[schemas.DeadLetter])
			if !ok {
				return nil, nil, nil, fmt.Errorf("topic %s: its rows are not dead letters", t.Name)
			}
			rt.dead, rt.own, dlq = d, rc.consumer, rt
		}
		routes[t.Name] = rt
		tables = append(tables, &rt.table)
	}
	if dlq == nil {
		return nil, nil, nil, fmt.Errorf("the topology sinks no dead-letter topic %s", tp.Names().DLQ)
	}
	return routes, tables, dlq, nil
}

// newRoute lays out the columns of t's table from its mapping.
func newRoute(t topology.Topic, rc routeConfig) *route {
	r := &route{mapping: t.Rows, bounds: rc.bounds, skipHdr: t.Skip}
	r.table.guarded = t.Guarded
	r.buf.layout = true
	t.Rows.Layout(&r.buf)
	r.buf.layout = false
	r.table.init(rc.db, t.Table, r.buf.cols)
	r.table.reset() // the layout's zero row
	return r
}

func (r *route) rows() *table { return &r.table }

// skip reports whether rec makes no row and needs no judgement (a progress marker, the
// sink's own dead letter).
func (r *route) skip(rec *kgo.Record) bool {
	if r.skipHdr != "" {
		if _, ok := stream.Header(rec, r.skipHdr); ok {
			return true
		}
	}
	return r.own != "" && stream.DeadLetterOf(rec, r.own)
}

// judge decodes and checks rec — the one validation of the sink, shared with its dead-letter
// judge — and, when add is set, appends the valid row. It returns the refusal, or nil. It
// uses the route's checker: the sink's loop only.
func (r *route) judge(rec *kgo.Record, add bool) *schemas.InvalidError {
	return r.walk(rec, &r.chk, add)
}

// walk is judge with the checker chk (the dead-letter judge runs beside the loop).
func (r *route) walk(rec *kgo.Record, chk *checker, add bool) *schemas.InvalidError {
	if r.skip(rec) {
		return nil
	}
	var cols topology.Columns
	if add {
		r.buf.i = 0
		cols = &r.buf
	}
	if err := r.mapping.Judge(r.bounds, rec.Value, chk, cols); err != nil {
		return decodeErr(err)
	}
	if add {
		r.buf.done()
		r.table.added(rec)
	}
	return nil
}

// addFailed stores a record the sink itself could not store (the dlq route only).
func (r *route) addFailed(rec *kgo.Record, e *schemas.InvalidError, consumer string, now time.Time) {
	r.buf.i = 0
	r.dead.Row(&schemas.DeadLetter{
		Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: rec.Key, Value: rec.Value,
		Error: e.Error(), Reason: e.Label(), Consumer: consumer, FailedAt: now,
	}, &r.buf)
	r.buf.done()
	r.table.added(rec)
}

// buffers is the topology.Columns that appends a row to a table's own column buffers, one
// column per call in the mapping's order; the layout walk creates them.
type buffers struct {
	cols   []namedCol
	i      int  // the next column of the row
	layout bool // the walk creates the columns
}

// next returns the buffer of the row's next column (created, named name, while laying out).
func next[C any, P interface {
	*C
	column
}](b *buffers, name string) P {
	if b.layout {
		p := P(new(C))
		b.cols = append(b.cols, namedCol{name, p})
		return p
	}
	p := b.cols[b.i].col.(P)
	b.i++
	return p
}

// done checks that a row walked every column (a mapping that walks columns conditionally is
// a programming error).
func (b *buffers) done() {
	if b.i != len(b.cols) {
		panic(fmt.Sprintf("sink: a row walked %d of its table's %d columns", b.i, len(b.cols)))
	}
}

func (b *buffers) String(name, v string) { p := next[strCol](b, name); *p = append(*p, v) }
func (b *buffers) Strings(name string, v []string) {
	p := next[strArrCol](b, name)
	*p = append(*p, v)
}
func (b *buffers) Money(name string, v decimal.Decimal) {
	p := next[decCol](b, name)
	*p = append(*p, v)
}
func (b *buffers) Rate(name string, v decimal.Decimal) {
	p := next[decCol](b, name)
	*p = append(*p, v)
}
func (b *buffers) Enum8(name string, code int8, _ string) {
	p := next[i8Col](b, name)
	*p = append(*p, code)
}
func (b *buffers) Int8(name string, v int64)  { p := next[i8Col](b, name); *p = append(*p, int8(v)) }
func (b *buffers) UInt8(name string, v int64) { p := next[u8Col](b, name); *p = append(*p, uint8(v)) }
func (b *buffers) UInt32(name string, v int64) {
	p := next[u32Col](b, name)
	*p = append(*p, uint32(v))
}
func (b *buffers) Int32(name string, v int32) { p := next[i32Col](b, name); *p = append(*p, v) }
func (b *buffers) Int64(name string, v int64) { p := next[i64Col](b, name); *p = append(*p, v) }
func (b *buffers) Time(name string, v time.Time) {
	p := next[timeCol](b, name)
	*p = append(*p, v)
}

func (b *buffers) TimeNs(name string, v time.Time) {
	b.Time(name, v)
	ns := ""
	if b.layout {
		ns = name + "_ns"
	}
	p := next[u32Col](b, ns)
	*p = append(*p, uint32(v.Nanosecond()))
}

func (b *buffers) Stamp(name string, v time.Time) {
	if checkTime(v) != "" {
		v = minDateTime
	}
	b.Time(name, v)
}

// checker is the topology.Checker of the sink: a value its column cannot hold exactly (SPEC
// R8's bounds are the decoder's) refuses the record. The times are judged after the other
// columns, the order of the sink's checks before the row mappings moved to the topology.
type checker struct {
	first, late *schemas.InvalidError // the first refusal of a non-time / a time column
}

func (c *checker) Refusal() *schemas.InvalidError {
	e := c.first
	if e == nil {
		e = c.late
	}
	c.first, c.late = nil, nil
	return e
}

func (c *checker) refuse(e *schemas.InvalidError) {
	if c.first == nil {
		c.first = e
	}
}

func (c *checker) String(string, string)    {}
func (c *checker) Strings(string, []string) {}
func (c *checker) Int32(string, int32)      {}
func (c *checker) Int64(string, int64)      {}
func (c *checker) Stamp(string, time.Time)  {}

func (c *checker) Money(name string, v decimal.Decimal) {
	if c.first == nil {
		c.refuse(checkMoney(name, v, money))
	}
}

func (c *checker) Rate(name string, v decimal.Decimal) {
	if c.first == nil {
		c.refuse(checkMoney(name, v, rate))
	}
}

func (c *checker) Enum8(name string, _ int8, unknown string) {
	if unknown != "" {
		c.refuse(schemas.FieldInvalid(name, false, unknown))
	}
}

func (c *checker) Int8(name string, v int64) {
	if v < -1<<7 || v > 1<<7-1 {
		c.refuse(outOfRange(name, "%d does not fit Int8", v))
	}
}

func (c *checker) UInt8(name string, v int64) {
	if v < 0 || v > 1<<8-1 {
		c.refuse(outOfRange(name, "%d does not fit UInt8", v))
	}
}

func (c *checker) UInt32(name string, v int64) {
	if v < 0 || v > 1<<32-1 {
		c.refuse(outOfRange(name, "%d does not fit UInt32", v))
	}
}

func (c *checker) Time(name string, v time.Time) {
	if c.late == nil {
		c.late = checkTimeField(name, v)
	}
}

func (c *checker) TimeNs(name string, v time.Time) { c.Time(name, v) }
