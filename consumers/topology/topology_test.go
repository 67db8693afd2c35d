package topology

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDesignTable: the topology table of docs/DESIGN.md is the one Markdown prints; a change
// of the declaration without the docs (or the other way round) fails here.
func TestDesignTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := Topology{}.Markdown()
	if !strings.Contains(string(b), want) {
		t.Errorf("docs/DESIGN.md lacks the topology table; paste:\n%s", want)
	}
}

// TestDeclaredOnce: every topic is declared once, every runner's topics are declared, and
// the co-partition groups are the joins' (client_id, owner_business_id).
func TestDeclaredOnce(t *testing.T) {
	t.Parallel()
	tp := New("x.")
	seen := map[string]bool{}
	for _, topic := range tp.Topics() {
		if seen[topic.Name] {
			t.Errorf("%s declared twice", topic.Name)
		}
		seen[topic.Name] = true
		if !strings.HasPrefix(topic.Name, "x.") {
			t.Errorf("%s is not under the prefix", topic.Name)
		}
	}
	for _, r := range tp.Runners() {
		for _, n := range r.Touches() {
			if !seen[n] {
				t.Errorf("runner %s touches undeclared topic %s", r.Name, n)
			}
		}
		if !strings.HasPrefix(r.Group, "x.") {
			t.Errorf("runner %s: group %s is not under the prefix", r.Name, r.Group)
		}
	}
	groups := tp.CoPartitioned()
	want := [][]string{
		{"x.taskole.bookings.v1", "x.taskole.enrollments.v1", "x.taskole.feedback.v1", "x.taskole.referral-owners.v1",
			"x.taskole.purchase-facts.v1", "x.taskole.ledger-repartition.v1", "x.taskole.ledger-state.v1"},
		{"x.taskole.commissions.v1", "x.taskole.payouts-state.v1", "x.taskole.payouts-control.v1"},
	}
	if !slices.EqualFunc(groups, want, slices.Equal[[]string]) {
		t.Errorf("co-partition groups %v, want %v", groups, want)
	}
	// A runner's check covers only the topics it touches: the ledger does not need feedback.
	ledger := tp.CoPartitioned(tp.Runner("ledger").Touches()...)
	if len(ledger) != 1 || slices.Contains(ledger[0], "x.taskole.feedback.v1") || len(ledger[0]) != 6 {
		t.Errorf("ledger co-partition groups %v", ledger)
	}
	if got := Of(tp.Names()).Prefix(); got != "x." {
		t.Errorf("Of(names).Prefix() = %q, want x.", got)
	}
}
