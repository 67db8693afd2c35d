package queries

import (
	"regexp"
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/testkit/tabletest"
)

func TestAllParse(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 10 {
		t.Fatalf("All() = %d queries, want the whole pack", len(all))
	}
	for _, q := range all {
		if q.Title == "" || q.Description == "" || len(q.Columns) == 0 {
			t.Errorf("%s: header lacks title, description or columns", q.Name)
		}
		if strings.Contains(q.SQL, "{{") || strings.Contains(q.SQL, "}}") {
			t.Errorf("%s: the expansion keeps a template action", q.Name)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, q Query)
	}{
		{
			name: "full header",
			in: "-- name: x\n-- title: T\n-- description: a\n-- description: b\n" +
				"-- param: owner String = ; the owner\n-- param: until Date; last month\n-- columns: a, b\n" +
				"SELECT {owner:String}, {until:Date}",
			check: func(t *testing.T, q Query) {
				if q.Name != "x" || q.Title != "T" || q.Description != "a b" || len(q.Columns) != 2 {
					t.Errorf("header = %+v", q)
				}
				o, _ := q.Param("owner")
				u, _ := q.Param("until")
				if o.Required || o.Default != "" || o.Type != "String" || o.Description != "the owner" {
					t.Errorf("owner = %+v", o)
				}
				if !u.Required || u.Type != "Date" {
					t.Errorf("until = %+v", u)
				}
			},
		},
		{name: "default with value", in: "-- name: x\n-- param: by String = platform; g\nSELECT {by:String}",
			check: func(t *testing.T, q Query) {
				if p, _ := q.Param("by"); p.Default != "platform" || p.Required {
					t.Errorf("by = %+v", p)
				}
			}},
		{name: "no name", in: "SELECT 1", wantErr: "no `-- name:`"},
		{name: "undeclared placeholder", in: "-- name: x\nSELECT {a:String}", wantErr: "not a declared param"},
		{name: "type mismatch", in: "-- name: x\n-- param: a Date; d\nSELECT {a:String}", wantErr: "declared Date"},
		{name: "unused param", in: "-- name: x\n-- param: a Date; d\nSELECT 1", wantErr: "never used"},
		{name: "bad param line", in: "-- name: x\n-- param: a\nSELECT 1", wantErr: "parsing param"},
		{name: "duplicate param", in: "-- name: x\n-- param: a Date; d\n-- param: a Date; d\nSELECT {a:Date}", wantErr: "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.in)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			tt.check(t, q)
		})
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("retention_clients"); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "retention_clients") {
		t.Fatalf("Lookup(nope) error = %v, want the list of names", err)
	}
}

// TestNoUnion: no query of the pack holds a UNION (outside its comments). On 18.16 the
// branches of a union run on parallel threads and can hang the query for good when each
// analyses subqueries or views (docs/DESIGN.md, "One stream for retention spend (0138)");
// the views are checked in consumers/runners/migrate (TestViewsHaveNoUnion).
func TestNoUnion(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		for i, line := range strings.Split(q.SQL, "\n") {
			if code, _, _ := strings.Cut(line, "--"); unionWord.MatchString(code) {
				t.Errorf("%s line %d holds a UNION: %s", q.Name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

var unionWord = regexp.MustCompile(`(?i)\bUNION\b`)
