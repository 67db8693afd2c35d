package queries

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"text/template"
)

// A query file is a Go text/template, expanded once when the pack is read (All), so that a
// piece of SQL that several panels compute the same way is written once:
//
//   - {{clientDim "owner_business_id" "cohort"}} is the dim column of a client metric: the
//     owner, the sector or the cohort, as the query's {by:String} asks, else 'platform'.
//     {{clientScope "owner_business_id"}} is its WHERE condition for the owner and sector
//     filters. {{businessDim "business_id"}} and {{businessScope "business_id"}} are the same
//     for a business metric (by = business, sector or platform; filters business, sector).
//   - {{part "NAME" "key" value ...}}, first on its line, is parts/NAME.sql, expanded with
//     .key = value, every line indented as the call is (what follows the call on its line
//     follows the part's last line). A part may call parts and the funcs.
//
// What the server receives, and what `taskole query NAME --sql` prints, is the expansion: it
// runs as is in clickhouse-client on a current server. The {name:Type} placeholders are left
// for consumers/tools/query (or clickhouse-client's --param_name) to fill.

// partLine is a line that starts with a {{part ...}} call: its indentation is given to the part.
var partLine = regexp.MustCompile(`(?m)^([ \t]*)\{\{part (.*?)\}\}(.*)$`)

// pack is the template set of the parts, with the funcs. One goroutine expands with it.
type pack struct {
	parts *template.Template
	depth int // parts being expanded, nested
}

// maxPartDepth bounds how deep parts nest: a part that calls itself, directly or not, is an
// error rather than a stack overflow.
const maxPartDepth = 8

// readPack parses every parts/NAME.sql of fsys.
func readPack(fsys fs.FS) (*pack, error) {
	p := &pack{}
	p.parts = template.New("parts").Option("missingkey=error").Funcs(p.funcs())
	names, err := fs.Glob(fsys, "parts/*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing query parts: %w", err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("reading query part %s: %w", n, err)
		}
		name := strings.TrimSuffix(path.Base(n), ".sql")
		if _, err := p.parts.New(name).Parse(indentCalls(strings.TrimRight(string(b), "\n"))); err != nil {
			return nil, fmt.Errorf("parsing query part %s: %w", n, err)
		}
	}
	return p, nil
}

// expand renders one query file.
func (p *pack) expand(name, text string) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(p.funcs()).Parse(indentCalls(text))
	if err != nil {
		return "", fmt.Errorf("parsing query %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("expanding query %s: %w", name, err)
	}
	return b.String(), nil
}

// indentCalls rewrites every line starting with {{part ...}} so that the part's lines after its
// first carry the call's indentation.
func indentCalls(text string) string {
	return partLine.ReplaceAllString(text, `$1{{indent "$1" (part $2)}}$3`)
}

func (p *pack) funcs() template.FuncMap {
	return template.FuncMap{
		"part":          p.part,
		"indent":        indent,
		"clientDim":     clientDim,
		"clientScope":   clientScope,
		"businessDim":   businessDim,
		"businessScope": businessScope,
	}
}

// part expands the part called name with the data kv (key, value, key, value, ...).
func (p *pack) part(name string, kv ...string) (string, error) {
	t := p.parts.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("no query part %q (parts/%s.sql)", name, name)
	}
	if len(kv)%2 != 0 {
		return "", fmt.Errorf("part %q: arguments are key, value pairs, got %d", name, len(kv))
	}
	if p.depth >= maxPartDepth {
		return "", fmt.Errorf("part %q: parts nest deeper than %d (does one call itself?)", name, maxPartDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	data := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		data[kv[i]] = kv[i+1]
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// indent puts prefix before every line of s but the first (which takes the call's place).
func indent(prefix, s string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// clientDim is the dim column of a client metric, from the columns holding the client's owner
// business and its cohort month.
func clientDim(owner, cohort string) string {
	return fmt.Sprintf("multiIf({by:String} = 'owner', %s, {by:String} = 'sector', sector, "+
		"{by:String} = 'cohort', toString(%s), 'platform')", owner, cohort)
}

// clientScope is the condition of a client metric's owner and sector filters.
func clientScope(owner string) string {
	return fmt.Sprintf("({owner:String} = '' OR %s = {owner:String}) "+
		"AND ({sector:String} = '' OR sector = {sector:String})", owner)
}

// businessDim is the dim column of a business metric, from the column holding the business.
func businessDim(business string) string {
	return fmt.Sprintf("multiIf({by:String} = 'sector', sector, {by:String} = 'platform', 'platform', %s)", business)
}

// businessScope is the condition of a business metric's business and sector filters.
func businessScope(business string) string {
	return fmt.Sprintf("({business:String} = '' OR %s = {business:String}) "+
		"AND ({sector:String} = '' OR sector = {sector:String})", business)
}
