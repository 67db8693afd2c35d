package schemas

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestLedgerProgressRoundTrip(t *testing.T) {
	v := LedgerProgress{
		Inputs: []InputTopic{{Topic: "e", Partitions: 2}, {Topic: "b", Partitions: 2}},
		Progress: []PartitionProgress{
			{Topic: "b", Partition: 1, NextOffset: 7, Watermark: time.Date(2025, 5, 1, 0, 0, 0, 5, time.UTC)},
			{Topic: "e", Partition: 0, NextOffset: 0},
		},
	}
	got, err := DecodeLedgerProgress(AppendLedgerProgress(nil, v))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, v)
	}
}

func TestDecodeLedgerProgressRefuses(t *testing.T) {
	tests := []struct{ name, in, label string }{
		{"not json", `{`, "json:malformed"},
		{"other kind", `{"kind":"commission","inputs":[{"topic":"b","partitions":1}]}`, "kind:invalid"},
		{"no inputs", `{"kind":"ledger-progress","inputs":[]}`, "inputs:missing"},
		{"zero partitions", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":0}]}`, "inputs:invalid"},
		{"input twice", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":1},{"topic":"b","partitions":1}]}`, "inputs:duplicate"},
		{"unknown topic", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":1}],"progress":[{"topic":"x","partition":0,"next_offset":1}]}`, "progress:invalid"},
		{"partition out of range", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":1}],"progress":[{"topic":"b","partition":1,"next_offset":1}]}`, "progress:invalid"},
		{"negative offset", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":1}],"progress":[{"topic":"b","partition":0,"next_offset":-1}]}`, "progress:invalid"},
		{"bad watermark", `{"kind":"ledger-progress","inputs":[{"topic":"b","partitions":1}],"progress":[{"topic":"b","partition":0,"next_offset":1,"watermark":"May"}]}`, "progress:invalid"},
	}
	for _, tt := range tests {
		_, err := DecodeLedgerProgress([]byte(tt.in))
		var fe *InvalidError
		if !errors.As(err, &fe) || fe.Label() != tt.label {
			t.Errorf("%s: error %v, want label %s", tt.name, err, tt.label)
		}
	}
}

func FuzzDecodeLedgerProgress(f *testing.F) {
	f.Add(string(AppendLedgerProgress(nil, LedgerProgress{Inputs: []InputTopic{{Topic: "b", Partitions: 3}},
		Progress: []PartitionProgress{{Topic: "b", Partition: 2, NextOffset: 9, Watermark: time.Unix(1e9, 0)}}})))
	f.Add(`{"kind":"ledger-progress"}`)
	f.Fuzz(func(t *testing.T, in string) {
		v, err := DecodeLedgerProgress([]byte(in))
		if err != nil {
			if fe := (*InvalidError)(nil); !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *InvalidError", err)
			}
			return
		}
		again, err := DecodeLedgerProgress(AppendLedgerProgress(nil, v))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoding %+v: %+v, %v", v, again, err)
		}
	})
}
