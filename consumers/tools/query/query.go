// Package query runs the BI query pack (sql/queries) against ClickHouse: it substitutes the
// {name:Type} placeholders of a query with typed, escaped literals (ClickHouse 18.16 has no
// server-side query parameters), runs it and returns the result as a Table that prints as
// aligned text, TSV or CSV.
package query

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/sql/queries"
)

// Render returns q's SQL with every placeholder replaced by the literal of its parameter:
// the value in params, else the header's default. An unknown parameter, a missing required
// one or a value that does not parse as its type is an error naming the parameter.
func Render(q queries.Query, params map[string]string) (string, error) {
	for name := range params {
		if _, ok := q.Param(name); !ok {
			return "", fmt.Errorf("rendering %s: unknown param %q", q.Name, name)
		}
	}
	lits := make(map[string]string, len(q.Params))
	for _, p := range q.Params {
		v, ok := params[p.Name]
		if !ok {
			if p.Required {
				return "", fmt.Errorf("rendering %s: param %s (%s) is required: %s", q.Name, p.Name, p.Type, p.Description)
			}
			v = p.Default
		}
		lit, err := Literal(p.Type, v)
		if err != nil {
			return "", fmt.Errorf("rendering %s: param %s: %w", q.Name, p.Name, err)
		}
		lits[p.Name] = lit
	}
	return queries.Placeholders().ReplaceAllStringFunc(q.SQL, func(m string) string {
		name := m[1:strings.IndexByte(m, ':')]
		return lits[name]
	}), nil
}

// Literal returns the ClickHouse literal of value as typ: a quoted, escaped string, a
// toDate/toDateTime of a validated date, or a range-checked number. Dates are YYYY-MM-DD;
// date-times are "YYYY-MM-DD hh:mm:ss" in UTC or RFC 3339 (converted to UTC).
func Literal(typ, value string) (string, error) {
	switch typ {
	case "String":
		return quote(value), nil
	case "Date":
		d, err := time.Parse(time.DateOnly, value)
		if err != nil {
			return "", fmt.Errorf("parsing %q as Date (YYYY-MM-DD): %w", value, err)
		}
		return "toDate('" + d.Format(time.DateOnly) + "')", nil
	case "DateTime":
		d, err := time.Parse(time.DateTime, value)
		if err != nil {
			d, err = time.Parse(time.RFC3339Nano, value)
		}
		if err != nil {
			return "", fmt.Errorf("parsing %q as DateTime (YYYY-MM-DD hh:mm:ss UTC or RFC 3339): %w", value, err)
		}
		return "toDateTime('" + d.UTC().Format(time.DateTime) + "', 'UTC')", nil
	case "UInt8", "UInt16", "UInt32", "UInt64":
		bits, _ := strconv.Atoi(typ[4:])
		n, err := strconv.ParseUint(value, 10, bits)
		if err != nil {
			return "", fmt.Errorf("parsing %q as %s: %w", value, typ, err)
		}
		return "to" + typ + "(" + strconv.FormatUint(n, 10) + ")", nil
	case "Int8", "Int16", "Int32", "Int64":
		bits, _ := strconv.Atoi(typ[3:])
		n, err := strconv.ParseInt(value, 10, bits)
		if err != nil {
			return "", fmt.Errorf("parsing %q as %s: %w", value, typ, err)
		}
		return "to" + typ + "(" + strconv.FormatInt(n, 10) + ")", nil
	case "Float64":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("parsing %q as a finite Float64", value)
		}
		return "toFloat64(" + strconv.FormatFloat(f, 'g', -1, 64) + ")", nil
	default:
		return "", fmt.Errorf("unsupported param type %s", typ)
	}
}

// quote returns s as a ClickHouse string literal: backslash and quote escaped, control
// characters as \xHH, so no value can end the literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Table is a query result. Values are what clickhouse-go scans each column into:
// string, integers, float64, decimal.Decimal, time.Time, bool, or a pointer to one of
// those for a Nullable column (nil for NULL).
type Table struct {
	Columns []string
	Types   []string // ClickHouse type names
	Rows    [][]any
}

// Run renders q with params, runs it on conn and reads the whole result.
func Run(ctx context.Context, conn driver.Conn, q queries.Query, params map[string]string) (*Table, error) {
	sql, err := Render(q, params)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("running query %s: %w", q.Name, err)
	}
	defer rows.Close()
	cts := rows.ColumnTypes()
	t := &Table{Columns: make([]string, len(cts)), Types: make([]string, len(cts))}
	for i, ct := range cts {
		t.Columns[i] = ct.Name()
		t.Types[i] = ct.DatabaseTypeName()
	}
	for rows.Next() {
		ptrs := make([]any, len(cts))
		for i, ct := range cts {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading query %s row %d: %w", q.Name, len(t.Rows)+1, err)
		}
		row := make([]any, len(cts))
		for i, p := range ptrs {
			row[i] = reflect.ValueOf(p).Elem().Interface()
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading query %s: %w", q.Name, err)
	}
	return t, nil
}

// Format returns the text of the value at row r, column c: decimals in full, dates as
// YYYY-MM-DD, date-times as YYYY-MM-DD hh:mm:ss (UTC), NULL as "NULL".
func (t *Table) Format(r, c int) string {
	return format(t.Rows[r][c], t.Types[c])
}

func format(v any, typ string) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "NULL"
		}
		return format(rv.Elem().Interface(), typ)
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case decimal.Decimal:
		if scale, ok := decimalScale(typ); ok {
			return x.StringFixed(scale)
		}
		return x.String()
	case time.Time:
		if strings.Contains(typ, "DateTime") {
			return x.UTC().Format(time.DateTime)
		}
		return x.Format(time.DateOnly)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	default:
		return fmt.Sprint(x)
	}
}

// decimalScale returns S of a Decimal(P, S) type name (Nullable or not).
func decimalScale(typ string) (int32, bool) {
	i := strings.Index(typ, "Decimal(")
	if i < 0 {
		return 0, false
	}
	args := typ[i+len("Decimal("):]
	j := strings.IndexByte(args, ')')
	if j < 0 {
		return 0, false
	}
	_, sc, ok := strings.Cut(args[:j], ",")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(sc))
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// Print writes t as aligned columns with a header line.
func (t *Table) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for r := range t.Rows {
		cells := make([]string, len(t.Columns))
		for c := range cells {
			cells[c] = t.Format(r, c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// WriteCSV writes t as CSV (header line first); sep ',' for CSV, '\t' for TSV.
func (t *Table) WriteCSV(w io.Writer, sep rune) error {
	cw := csv.NewWriter(w)
	cw.Comma = sep
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	for r := range t.Rows {
		cells := make([]string, len(t.Columns))
		for c := range cells {
			cells[c] = t.Format(r, c)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
