// Package queries embeds the BI query pack: one named, commented ClickHouse query per
// dashboard panel (NAME.sql beside this file), over the raw tables and the analytics
// migrations of sql/migrations. README.md lists them with what each answers.
//
// Every file starts with a header of whole-line comments that this package parses:
//
//	-- name: retention_clients
//	-- title: Cohort retention triangle (clients)
//	-- description: free text, any number of lines
//	-- param: by String = platform; what the parameter means
//	-- param: until Date; a parameter without "= default" is required
//	-- columns: dim, cohort, k, ...
//
// The SQL after the header is a text/template: what several panels compute alike is written
// once, as a part (parts/NAME.sql) or a func (expand.go, which documents them). Parameters
// appear in the SQL the ClickHouse way, {name:Type}, so an expanded query (`taskole query
// NAME --sql`) runs as is in clickhouse-client on a current server (clickhouse-client
// --param_until=2025-06-01 ...). ClickHouse 18.16 has no query parameters:
// consumers/tools/query substitutes typed, escaped literals itself before sending a query.
package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.sql parts/*.sql
var files embed.FS

// Param is one parameter of a query.
type Param struct {
	Name        string
	Type        string // ClickHouse type: String, Date, DateTime, UInt32, ...
	Default     string // used when the caller gives none; see Required
	Required    bool   // true when the header gives no default
	Description string
}

// Query is one panel's query.
type Query struct {
	Name        string
	Title       string
	Description string
	Params      []Param
	Columns     []string // the result columns, as documented in the header
	SQL         string   // the whole file expanded (expand.go), header included
}

// Param returns the parameter called name.
func (q Query) Param(name string) (Param, bool) {
	for _, p := range q.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

var (
	headerLine  = regexp.MustCompile(`^--\s*([a-z]+):\s?(.*)$`)
	paramSpec   = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z][A-Za-z0-9]*)\s*(=\s*([^;]*))?;\s*(.*)$`)
	placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z][A-Za-z0-9]*)\}`)
)

// Parse reads a query file's header. It checks that the header names the query, that every
// {name:Type} placeholder of the SQL is a declared parameter of that type, and that every
// declared parameter is used.
func Parse(text string) (Query, error) {
	q := Query{SQL: text}
	var desc []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if !strings.HasPrefix(line, "--") {
			break
		}
		m := headerLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, val := m[1], strings.TrimSpace(m[2])
		switch key {
		case "name":
			q.Name = val
		case "title":
			q.Title = val
		case "description":
			desc = append(desc, val)
		case "columns":
			for _, c := range strings.Split(val, ",") {
				if c = strings.TrimSpace(c); c != "" {
					q.Columns = append(q.Columns, c)
				}
			}
		case "param":
			pm := paramSpec.FindStringSubmatch(val)
			if pm == nil {
				return Query{}, fmt.Errorf("parsing param %q: want `name Type [= default]; description`", val)
			}
			p := Param{Name: pm[1], Type: pm[2], Required: pm[3] == "", Default: strings.TrimSpace(pm[4]), Description: pm[5]}
			if _, dup := q.Param(p.Name); dup {
				return Query{}, fmt.Errorf("parsing param %q: declared twice", p.Name)
			}
			q.Params = append(q.Params, p)
		}
	}
	q.Description = strings.Join(desc, " ")
	if q.Name == "" {
		return Query{}, fmt.Errorf("parsing header: no `-- name:` line")
	}
	used := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		p, ok := q.Param(m[1])
		if !ok {
			return Query{}, fmt.Errorf("checking %s: placeholder {%s:%s} is not a declared param", q.Name, m[1], m[2])
		}
		if p.Type != m[2] {
			return Query{}, fmt.Errorf("checking %s: placeholder {%s:%s} but the param is declared %s", q.Name, m[1], m[2], p.Type)
		}
		used[m[1]] = true
	}
	for _, p := range q.Params {
		if !used[p.Name] {
			return Query{}, fmt.Errorf("checking %s: param %s is declared but never used", q.Name, p.Name)
		}
	}
	return q, nil
}

// Placeholders returns the {name:Type} placeholder pattern: submatch 1 is the name, 2 the type.
// A Regexp is safe for concurrent use; callers must not call Longest on it.
func Placeholders() *regexp.Regexp { return placeholder }

// All expands (expand.go) and parses every embedded query, sorted by name. A file whose
// header does not parse, or whose name differs from its file name, is an error (the package
// tests guard this).
func All() ([]Query, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing queries: %w", err)
	}
	p, err := readPack(files)
	if err != nil {
		return nil, err
	}
	out := make([]Query, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err != nil {
			return nil, fmt.Errorf("reading query %s: %w", n, err)
		}
		text, err := p.expand(n, string(b))
		if err != nil {
			return nil, err
		}
		q, err := Parse(text)
		if err != nil {
			return nil, fmt.Errorf("parsing query %s: %w", n, err)
		}
		if q.Name+".sql" != n {
			return nil, fmt.Errorf("parsing query %s: header names it %q", n, q.Name)
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Lookup returns the embedded query called name.
func Lookup(name string) (Query, error) {
	all, err := All()
	if err != nil {
		return Query{}, err
	}
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
	}
	names := make([]string, len(all))
	for i, q := range all {
		names[i] = q.Name
	}
	return Query{}, fmt.Errorf("no query %q (have %s)", name, strings.Join(names, ", "))
}
