package query

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/sql/queries"
)

func TestLiteral(t *testing.T) {
	tests := []struct {
		typ, in, want, wantErr string
	}{
		{typ: "String", in: "", want: "''"},
		{typ: "String", in: "b-1", want: "'b-1'"},
		{typ: "String", in: "o'brien", want: `'o\'brien'`},
		{typ: "String", in: `a\' OR 1=1 --`, want: `'a\\\' OR 1=1 --'`},
		{typ: "String", in: "x\ny\x00", want: `'x\x0Ay\x00'`},
		{typ: "Date", in: "2025-06-01", want: "toDate('2025-06-01')"},
		{typ: "Date", in: "2025-02-30", wantErr: "as Date"},
		{typ: "Date", in: "2025-06-01') OR ('", wantErr: "as Date"},
		{typ: "DateTime", in: "2025-06-30 23:59:59", want: "toDateTime('2025-06-30 23:59:59', 'UTC')"},
		{typ: "DateTime", in: "2025-07-01T01:00:00+02:00", want: "toDateTime('2025-06-30 23:00:00', 'UTC')"},
		{typ: "DateTime", in: "yesterday", wantErr: "as DateTime"},
		{typ: "UInt16", in: "60", want: "toUInt16(60)"},
		{typ: "UInt16", in: "65536", wantErr: "UInt16"},
		{typ: "UInt8", in: "-1", wantErr: "UInt8"},
		{typ: "Int32", in: "-5", want: "toInt32(-5)"},
		{typ: "Float64", in: "0.5", want: "toFloat64(0.5)"},
		{typ: "Float64", in: "NaN", wantErr: "finite"},
		{typ: "Array(String)", in: "x", wantErr: "unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.in, func(t *testing.T) {
			got, err := Literal(tt.typ, tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Literal(%s, %q) = %q, %v; want error %q", tt.typ, tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Literal(%s, %q) = %q, %v; want %q", tt.typ, tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	q, err := queries.Parse("-- name: x\n-- param: owner String = ; o\n-- param: by String = platform; b\n" +
		"-- param: until Date; u\nSELECT {owner:String}, {by:String}, {until:Date}, {owner:String}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		params  map[string]string
		want    string
		wantErr string
	}{
		{name: "defaults", params: map[string]string{"until": "2025-01-15"},
			want: "SELECT '', 'platform', toDate('2025-01-15'), ''"},
		{name: "given", params: map[string]string{"until": "2025-01-15", "owner": "b'1", "by": "owner"},
			want: `SELECT 'b\'1', 'owner', toDate('2025-01-15'), 'b\'1'`},
		{name: "missing required", params: nil, wantErr: "until (Date) is required"},
		{name: "unknown", params: map[string]string{"until": "2025-01-15", "ownr": "x"}, wantErr: `unknown param "ownr"`},
		{name: "bad value", params: map[string]string{"until": "june"}, wantErr: "param until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(q, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.HasSuffix(got, tt.want) {
				t.Fatalf("Render = %q, %v; want suffix %q", got, err, tt.want)
			}
		})
	}
}

func FuzzLiteralString(f *testing.F) {
	for _, s := range []string{"", "a", "'", `\`, `\'`, "\x00", "x'); DROP TABLE t; --"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit, _ := Literal("String", s)
		// The literal must be one quoted token: every quote inside is escaped.
		body := lit[1 : len(lit)-1]
		for i := 0; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
			case '\'':
				t.Fatalf("Literal(%q) = %s has an unescaped quote", s, lit)
			}
		}
	})
}

func TestFormat(t *testing.T) {
	d := decimal.RequireFromString("20.5")
	tests := []struct {
		v    any
		typ  string
		want string
	}{
		{d, "Decimal(38, 4)", "20.5000"},
		{&d, "Nullable(Decimal(18, 4))", "20.5000"},
		{(*decimal.Decimal)(nil), "Nullable(Decimal(18, 4))", "NULL"},
		{d, "Decimal", "20.5"},
		{0.25, "Float64", "0.25"},
		{time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "Date", "2025-03-01"},
		{time.Date(2025, 3, 1, 1, 2, 3, 0, time.UTC), "DateTime('UTC')", "2025-03-01 01:02:03"},
		{uint64(7), "UInt64", "7"},
	}
	for _, tt := range tests {
		if got := format(tt.v, tt.typ); got != tt.want {
			t.Errorf("format(%v, %s) = %q, want %q", tt.v, tt.typ, got, tt.want)
		}
	}
}
