package topology

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/sql/migrations"
)

// TestTables: a topic is sunk exactly when it has a row mapping; every mapping names the
// columns, in order and with their types, of its raw table as the migrations create it (plus
// the <name>_unix companions and the columns every raw table ends with), and every raw table
// of the migrations (a table with the sink's _offset) is some topic's.
func TestTables(t *testing.T) {
	t.Parallel()
	created := migratedColumns(t)
	sunk := map[string]bool{}
	for _, tp := range New("").Topics() {
		if (tp.Table == "") != (tp.Rows == nil) {
			t.Errorf("%s: table %q with row mapping %v: a sunk topic needs both", tp.Name, tp.Table, tp.Rows != nil)
		}
		if tp.Rows == nil {
			continue
		}
		sunk[tp.Table] = true
		cols, ok := created[tp.Table]
		if !ok {
			t.Errorf("%s: the migrations create no table %s", tp.Name, tp.Table)
			continue
		}
		var l layout
		tp.Rows.Layout(&l)
		if got := l.withSinkColumns(); !slices.Equal(got, cols) {
			t.Errorf("%s: the row mapping gives the columns\n%v\nthe migrations create\n%v", tp.Table, got, cols)
		}
	}
	for table, cols := range created {
		if slices.ContainsFunc(cols, func(c column) bool { return c.name == "_offset" }) && !sunk[table] {
			t.Errorf("raw table %s: no topic declares it (Topic.Table and Topic.Rows)", table)
		}
	}
}

// column is one column of a raw table: its name and type (an Enum8 without its values).
type column struct{ name, typ string }

func (c column) String() string { return c.name + " " + c.typ }

// layout records a row mapping's columns as the migrations type them.
type layout struct{ cols []column }

func (l *layout) add(name, typ string)                 { l.cols = append(l.cols, column{name, typ}) }
func (l *layout) String(name, _ string)                { l.add(name, "String") }
func (l *layout) Strings(name string, _ []string)      { l.add(name, "Array(String)") }
func (l *layout) Money(name string, _ decimal.Decimal) { l.add(name, "Decimal(18, 4)") }
func (l *layout) Rate(name string, _ decimal.Decimal)  { l.add(name, "Decimal(38, 10)") }
func (l *layout) Enum8(name string, _ int8, _ string)  { l.add(name, "Enum8") }
func (l *layout) Int8(name string, _ int64)            { l.add(name, "Int8") }
func (l *layout) UInt8(name string, _ int64)           { l.add(name, "UInt8") }
func (l *layout) UInt32(name string, _ int64)          { l.add(name, "UInt32") }
func (l *layout) Int32(name string, _ int32)           { l.add(name, "Int32") }
func (l *layout) Int64(name string, _ int64)           { l.add(name, "Int64") }
func (l *layout) Time(name string, _ time.Time)        { l.add(name, "DateTime('UTC')") }
func (l *layout) Stamp(name string, _ time.Time)       { l.add(name, "DateTime('UTC')") }
func (l *layout) TimeNs(name string, t time.Time)      { l.Time(name, t); l.add(name+"_ns", "UInt32") }

// withSinkColumns returns the columns sorted by name, with each DateTime's <name>_unix and
// the sink's bookkeeping columns; the own columns' order is checked by ownOrder.
func (l *layout) withSinkColumns() []column {
	out := slices.Clone(l.cols)
	for _, c := range l.cols {
		if c.typ == "DateTime('UTC')" {
			out = append(out, column{c.name + "_unix", "Int64"})
		}
	}
	out = append(out, column{"_topic", "String"}, column{"_partition", "UInt32"}, column{"_offset", "UInt64"},
		column{"_inserted_at", "DateTime('UTC')"})
	return out
}

// migratedColumns returns the columns of every table the migrations create, as the sink
// writes them: own columns in table order, then the <name>_unix companions added later (in the
// order their ALTERs add them), then _topic, _partition, _offset, _inserted_at.
func migratedColumns(t *testing.T) map[string][]column {
	t.Helper()
	create := regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS\s+(\w+)`)
	col := regexp.MustCompile(`^\s+(\w+)\s+(.*?)(\s+DEFAULT .*)?,?\s*$`)
	alter := regexp.MustCompile(`^ALTER TABLE (\w+) ADD COLUMN (\w+) (\S+)`)
	tables := map[string][]column{}
	names, err := fs.Glob(migrations.FS(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		b, err := fs.ReadFile(migrations.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		cur := ""
		for _, line := range strings.Split(string(b), "\n") {
			switch m, a, c := create.FindStringSubmatch(line), alter.FindStringSubmatch(line), col.FindStringSubmatch(line); {
			case m != nil:
				cur = m[1]
			case a != nil:
				tables[a[1]] = append(tables[a[1]], column{a[2], a[3]})
			case strings.HasPrefix(line, ")"):
				cur = ""
			case cur != "" && c != nil:
				typ := c[2]
				if strings.HasPrefix(typ, "Enum8(") {
					typ = "Enum8"
				}
				tables[cur] = append(tables[cur], column{c[1], typ})
			}
		}
	}
	for _, cols := range tables {
		ownFirst(cols)
	}
	return tables
}

// ownFirst orders cols as withSinkColumns does: own columns, then *_unix, then the sink's.
func ownFirst(cols []column) {
	rank := func(c column) int {
		switch {
		case strings.HasPrefix(c.name, "_"):
			return 2
		case strings.HasSuffix(c.name, "_unix"):
			return 1
		}
		return 0
	}
	slices.SortStableFunc(cols, func(a, b column) int { return rank(a) - rank(b) })
}
