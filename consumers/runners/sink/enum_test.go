package sink

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
)

// TestEnumCodes: the Enum8 codes the sink writes (schemas.Enum, taken by the topology's row
// mappings) are the ones the raw tables declare (sql/migrations), value by value, and every
// Enum8 column of a sunk table is one of them.
func TestEnumCodes(t *testing.T) {
	t.Parallel()
	declared := enum8Columns(t)
	written := map[string]map[string]int{
		"bookings.status":        codes(schemas.Statuses(), schemas.Status.String),
		"enrollments.source":     codes(schemas.EnrollmentSources(), func(s string) string { return s }),
		"feedback.kind":          codes(schemas.FeedbackKinds(), str[schemas.FeedbackKind]),
		"referral_owners.source": codes(schemas.OwnerSources(), str[schemas.OwnerSource]),
		"commissions.kind":       codes(schemas.CommissionKinds(), str[schemas.CommissionKind]),
		"commissions.reason":     codes(schemas.Reasons(), str[schemas.Reason]),
		"retention_costs.kind":   codes(schemas.RetentionKinds(), str[schemas.RetentionKind]),
	}
	for col, values := range written {
		want, ok := declared[col]
		if !ok {
			t.Errorf("%s: no Enum8 column in the migrations", col)
			continue
		}
		if len(want) != len(values) {
			t.Errorf("%s: the migrations declare %v, the sink writes %v", col, want, values)
		}
		for name, c := range values {
			if w, ok := want[name]; !ok || w != c {
				t.Errorf("%s: the sink writes %q as %d, the migrations declare %v", col, name, c, want)
			}
		}
	}
	for _, tp := range topology.New("").Topics() {
		if tp.Rows == nil {
			continue
		}
		l := enumLayout{buffers: buffers{layout: true}}
		tp.Rows.Layout(&l)
		for _, c := range l.enums {
			if _, ok := written[tp.Table+"."+c]; !ok {
				t.Errorf("%s.%s: an Enum8 column this test does not check", tp.Table, c)
			}
		}
	}
}

// codes returns the code of every value of e, by its wire name.
func codes[E comparable](e schemas.Enum[E], name func(E) string) map[string]int {
	out := map[string]int{}
	for _, v := range e.Values {
		c, _ := e.Code(v)
		out[name(v)] = int(c)
	}
	return out
}

func str[E ~string](v E) string { return string(v) }

// enumLayout collects the Enum8 columns of a layout.
type enumLayout struct {
	buffers
	enums []string
}

func (l *enumLayout) Enum8(name string, _ int8, _ string) { l.enums = append(l.enums, name) }

// enum8Columns reads every "<column> Enum8('a' = 1, …)" of the raw tables' CREATE TABLE
// statements, as "<table>.<column>" → value → code.
func enum8Columns(t *testing.T) map[string]map[string]int {
	t.Helper()
	table := regexp.MustCompile(`(?i)CREATE TABLE IF NOT EXISTS\s+(\w+)`)
	column := regexp.MustCompile(`^\s*(\w+)\s+Enum8\((.*)\),?\s*$`)
	pair := regexp.MustCompile(`'([^']*)'\s*=\s*(\d+)`)
	out := map[string]map[string]int{}
	err := fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		b, err := fs.ReadFile(migrations.FS(), path)
		if err != nil {
			return err
		}
		cur := ""
		for _, line := range strings.Split(string(b), "\n") {
			if m := table.FindStringSubmatch(line); m != nil {
				cur = m[1]
				continue
			}
			m := column.FindStringSubmatch(line)
			if m == nil || cur == "" {
				continue
			}
			vals := map[string]int{}
			for _, p := range pair.FindAllStringSubmatch(m[2], -1) {
				n, _ := strconv.Atoi(p[2])
				vals[p[1]] = n
			}
			out[cur+"."+m[1]] = vals
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
