package queries

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/taskole/revshare/consumers/testkit/tabletest"
)

func TestExpand(t *testing.T) {
	parts := fstest.MapFS{}
	for name, text := range map[string]string{
		"two":    "{{/* doc, not emitted */ -}}\nSELECT a,\n    b\nFROM t\n",
		"args":   "SELECT {{.col}}\nFROM {{.table}}",
		"nested": "(\n    {{part \"two\"}}\n)",
		"scoped": "WHERE {{.scope}}",
		"loop":   "SELECT\n{{part \"loop\"}}",
	} {
		parts["parts/"+name+".sql"] = &fstest.MapFile{Data: []byte(text)}
	}
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "plain SQL is unchanged", in: "SELECT {x:String}\nFROM t", want: "SELECT {x:String}\nFROM t"},
		{name: "a part takes the call's indentation", in: "SELECT *\nFROM\n(\n    {{part \"two\"}}\n)",
			want: "SELECT *\nFROM\n(\n    SELECT a,\n        b\n    FROM t\n)"},
		{name: "text after the call follows the part", in: "  {{part \"two\"}} AS x,\nnext",
			want: "  SELECT a,\n      b\n  FROM t AS x,\nnext"},
		{name: "arguments", in: "{{part \"args\" \"col\" \"c\" \"table\" \"tbl\"}}", want: "SELECT c\nFROM tbl"},
		{name: "nested parts indent twice", in: "\t{{part \"nested\"}}",
			want: "\t(\n\t    SELECT a,\n\t        b\n\t    FROM t\n\t)"},
		{name: "a func as an argument", in: "{{part \"scoped\" \"scope\" (businessScope \"business_id\")}}",
			want: "WHERE ({business:String} = '' OR business_id = {business:String}) AND ({sector:String} = '' OR sector = {sector:String})"},
		{name: "client dim", in: "{{clientDim \"owner_business_id\" \"cohort\"}}",
			want: "multiIf({by:String} = 'owner', owner_business_id, {by:String} = 'sector', sector, {by:String} = 'cohort', toString(cohort), 'platform')"},
		{name: "client scope", in: "{{clientScope \"business_id\"}}",
			want: "({owner:String} = '' OR business_id = {owner:String}) AND ({sector:String} = '' OR sector = {sector:String})"},
		{name: "business dim", in: "{{businessDim \"business_id\"}}",
			want: "multiIf({by:String} = 'sector', sector, {by:String} = 'platform', 'platform', business_id)"},
		{name: "unknown part", in: "{{part \"nope\"}}", wantErr: `no query part "nope"`},
		{name: "missing argument", in: "{{part \"args\" \"col\" \"c\"}}", wantErr: "table"},
		{name: "odd arguments", in: "{{part \"args\" \"col\"}}", wantErr: "key, value pairs"},
		{name: "a part calling itself", in: "{{part \"loop\"}}", wantErr: "nest deeper than"},
		{name: "unknown func", in: "{{nope}}", wantErr: "parsing query q.sql"},
	}
	p, err := readPack(parts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.expand("q.sql", tt.in)
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			if got != tt.want {
				t.Errorf("expand =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestReadPackRefusesABadPart(t *testing.T) {
	_, err := readPack(fstest.MapFS{"parts/bad.sql": {Data: []byte("{{if}}")}})
	if err == nil || !strings.Contains(err.Error(), "parts/bad.sql") {
		t.Fatalf("readPack error = %v, want one naming parts/bad.sql", err)
	}
}

// TestPackExpandsFully: every part of parts/ serves at least one query (directly or through
// another part). TestAllParse checks that no expansion keeps a template action.
func TestPackExpandsFully(t *testing.T) {
	names, err := fs.Glob(files, "parts/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("parts: %v, %v", names, err)
	}
	var sources []string
	for _, pattern := range []string{"*.sql", "parts/*.sql"} {
		ns, _ := fs.Glob(files, pattern)
		for _, n := range ns {
			b, _ := fs.ReadFile(files, n)
			sources = append(sources, string(b))
		}
	}
	for _, n := range names {
		part := strings.TrimSuffix(strings.TrimPrefix(n, "parts/"), ".sql")
		call := regexp.MustCompile(`\{\{part "` + regexp.QuoteMeta(part) + `"`)
		used := false
		for _, s := range sources {
			used = used || call.MatchString(s)
		}
		if !used {
			t.Errorf("%s: no query or part calls it", n)
		}
	}
}
