package stream

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestAssignNumbers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int32
		owned [][]int32
		want  [][]int32
	}{
		{"no members", 4, nil, nil},
		{"first member takes all", 4, [][]int32{nil}, [][]int32{{0, 1, 2, 3}}},
		{"second joins: owner keeps the low half", 4, [][]int32{{0, 1, 2, 3}, nil}, [][]int32{{0, 1}, {2, 3}}},
		{"joiner sorted first gets what moves", 4, [][]int32{nil, {0, 1, 2, 3}}, [][]int32{{2, 3}, {0, 1}}},
		{"third joins: each owner gives one", 12, [][]int32{{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}, nil},
			[][]int32{{0, 1, 2, 3}, {6, 7, 8, 9}, {4, 5, 10, 11}}},
		{"member leaves: its numbers spread, nothing else moves", 12, [][]int32{{0, 1, 2, 3}, {4, 5, 6, 7}},
			[][]int32{{0, 1, 2, 3, 8, 9}, {4, 5, 6, 7, 10, 11}}},
		{"balanced group moves nothing", 5, [][]int32{{1, 3}, {0, 2, 4}}, [][]int32{{1, 3}, {0, 2, 4}}},
		{"uneven share goes to the larger owner", 5, [][]int32{{0, 1}, {2, 3, 4}, nil}, [][]int32{{0, 1}, {2, 3}, {4}}},
		{"restarted member gets its numbers back", 6, [][]int32{{0, 1}, nil, {4, 5}}, [][]int32{{0, 1}, {2, 3}, {4, 5}}},
		{"more members than partitions", 2, [][]int32{{0, 1}, nil, nil}, [][]int32{{0}, {1}, nil}},
		{"claims beyond the partition count are ignored", 2, [][]int32{{0, 1, 7}, nil}, [][]int32{{0}, {1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assignNumbers(tc.n, tc.owned)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("assignNumbers(%d, %v) = %v, want %v", tc.n, tc.owned, got, tc.want)
			}
		})
	}
}

// TestAssignNumbersProperties: every number exactly once, shares within one of each other,
// and a member keeps min(owned, share) of what it owned: only what must move moves.
func TestAssignNumbersProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Int32Range(0, 64).Draw(t, "n")
		k := rapid.IntRange(1, 8).Draw(t, "members")
		owner := rapid.SliceOfN(rapid.IntRange(-1, k-1), int(n), int(n)).Draw(t, "owner") // -1: unowned
		owned := make([][]int32, k)
		for p, i := range owner {
			if i >= 0 {
				owned[i] = append(owned[i], int32(p))
			}
		}
		got := assignNumbers(n, owned)
		seen := make([]int, n)
		lo, hi := int(n), 0
		for i, nums := range got {
			lo, hi = min(lo, len(nums)), max(hi, len(nums))
			for _, p := range nums {
				seen[p]++
			}
			kept := 0
			for _, p := range owned[i] {
				if slices.Contains(nums, p) {
					kept++
				}
			}
			if want := min(len(owned[i]), len(nums)); kept != want {
				t.Fatalf("member %d kept %d of its %v, want %d (got %v)", i, kept, owned[i], want, nums)
			}
		}
		for p, c := range seen {
			if c != 1 {
				t.Fatalf("partition %d assigned %d times: %v", p, c, got)
			}
		}
		if hi-lo > 1 {
			t.Fatalf("unbalanced shares %d..%d: %v", lo, hi, got)
		}
	})
}
