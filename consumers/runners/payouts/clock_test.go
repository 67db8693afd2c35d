package payouts

import "testing"

// TestClockLow pins the low watermark: the minimum over every input partition, none before
// each one reported (or was released by a close command whose pinned end offset the ledger
// reached).
func TestClockLow(t *testing.T) {
	const d = 1000 // close_through + CloseDelay of the command, in the clock's unit
	two := map[string]int32{"b": 2}
	tests := []struct {
		name string
		c    clock
		want int64
	}{
		{"no marker yet", clock{}, 0},
		{"one partition silent", clock{Inputs: two, Parts: map[string]partClock{"b/0": {Next: 5, Watermark: 50}}}, 0},
		{"minimum over partitions", clock{Inputs: two, Parts: map[string]partClock{"b/0": {Next: 5, Watermark: 50}, "b/1": {Next: 3, Watermark: 40}}}, 40},
		{"every topic counts", clock{Inputs: map[string]int32{"b": 1, "e": 1}, Parts: map[string]partClock{"b/0": {Next: 5, Watermark: 50}}}, 0},
		{"close releases a partition caught up to its pinned end", clock{Inputs: two,
			Parts:  map[string]partClock{"b/0": {Next: 5, Watermark: 2000}, "b/1": {Next: 3, Watermark: 40}},
			Closes: []closeCmd{{Through: d, Ends: map[string]int64{"b/0": 5, "b/1": 3}}}}, d},
		{"close waits for the ledger to reach the pinned end", clock{Inputs: two,
			Parts:  map[string]partClock{"b/0": {Next: 5, Watermark: 2000}, "b/1": {Next: 2, Watermark: 40}},
			Closes: []closeCmd{{Through: d, Ends: map[string]int64{"b/0": 5, "b/1": 3}}}}, 40},
		{"close releases an empty partition", clock{Inputs: two,
			Parts:  map[string]partClock{"b/0": {Next: 5, Watermark: 2000}},
			Closes: []closeCmd{{Through: d, Ends: map[string]int64{"b/0": 5, "b/1": 0}}}}, d},
		{"close never lowers a watermark", clock{Inputs: two,
			Parts:  map[string]partClock{"b/0": {Next: 5, Watermark: 2000}, "b/1": {Next: 9, Watermark: 3000}},
			Closes: []closeCmd{{Through: d, Ends: map[string]int64{"b/0": 5, "b/1": 3}}}}, 2000},
		{"a command without the partition does not release it", clock{Inputs: two,
			Parts:  map[string]partClock{"b/0": {Next: 5, Watermark: 2000}, "b/1": {Next: 9, Watermark: 30}},
			Closes: []closeCmd{{Through: d, Ends: map[string]int64{"b/0": 5}}}}, 30},
	}
	for _, tt := range tests {
		if got := tt.c.low(); got != tt.want {
			t.Errorf("%s: low %d, want %d", tt.name, got, tt.want)
		}
	}
}
