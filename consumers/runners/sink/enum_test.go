package sink

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
)

// TestEnumCodes: the Enum8 codes the sink writes are the ones the raw tables declare
// (sql/migrations), value by value — the contract's enums are coded in the migrations and in
// the routes, and this holds the two together.
func TestEnumCodes(t *testing.T) {
	t.Parallel()
	declared := enum8Columns(t)
	code := func(c int8, ok bool) int {
		if !ok {
			return -1
		}
		return int(c)
	}
	check := func(col string, values map[string]int) {
		t.Helper()
		want, ok := declared[col]
		if !ok {
			t.Errorf("%s: no Enum8 column in the migrations", col)
			return
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
	statuses := map[string]int{}
	for s := schemas.StatusCreated; s <= schemas.StatusRefunded; s++ {
		statuses[s.String()] = int(s)
	}
	check("bookings.status", statuses)
	sources := map[string]int{}
	for _, s := range []string{"", "import", "invite", "qr"} {
		sources[s] = code(enrollmentSource(s))
	}
	check("enrollments.source", sources)
	check("feedback.kind", map[string]int{
		string(schemas.FeedbackNPS): code(feedbackKind(schemas.FeedbackNPS)), string(schemas.FeedbackCSAT): code(feedbackKind(schemas.FeedbackCSAT))})
	check("referral_owners.source", map[string]int{
		string(schemas.OwnerByEnrollment): code(ownerSource(schemas.OwnerByEnrollment)),
		string(schemas.OwnerByBooking):    code(ownerSource(schemas.OwnerByBooking))})
	check("commissions.kind", map[string]int{
		string(schemas.Accrual): code(commissionKind(schemas.Accrual)), string(schemas.Reversal): code(commissionKind(schemas.Reversal))})
	reasons := map[string]int{}
	for _, r := range []schemas.Reason{schemas.ReasonCompleted, schemas.ReasonRefund, schemas.ReasonCancellation, schemas.ReasonOwnershipCorrection} {
		reasons[string(r)] = code(commissionReason(r))
	}
	check("commissions.reason", reasons)
	kinds := map[string]int{}
	for _, k := range []schemas.RetentionKind{schemas.RetentionLoyaltyDiscount, schemas.RetentionFreeService, schemas.RetentionGuarantee, schemas.RetentionOther} {
		kinds[string(k)] = code(retentionKind(k))
	}
	check("retention_costs.kind", kinds)
}

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
