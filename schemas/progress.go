package schemas

import (
	"encoding/json"
	"fmt"
	"time"
)

// Record headers of the commissions topic (taskole.commissions.v1), written by the ledger.
const (
	// MarkerHeader marks a record of the commissions topic as a ledger progress marker, not a
	// commission: its value is MarkerProgress and the record value a LedgerProgress. Every
	// reader of the commissions topic skips (or, like the payouts consumer, uses) records
	// with this header; a marker's key is empty.
	MarkerHeader   = "taskole-marker"
	MarkerProgress = "ledger-progress"
	// SourceHeader on a commission names the ledger input it came from: "<topic>/<partition>".
	SourceHeader = "taskole-source"
	// SourceWatermarkHeader on a commission is the event-time watermark of that input
	// partition before the record that caused the commission (RFC 3339, UTC; empty when the
	// record was the partition's first).
	SourceWatermarkHeader = "taskole-source-watermark"
)

// LedgerProgress is the value of a ledger progress marker. The ledger writes one to every
// partition of the commissions topic in each transaction that processed input, after that
// transaction's commissions: for each ledger input partition it processed, everything below
// NextOffset has been processed and its commissions precede the marker on every commissions
// partition.
type LedgerProgress struct {
	// Inputs is the ledger's complete input set: every input topic and its partition count.
	Inputs []InputTopic
	// Progress is the state of the input partitions the transaction processed.
	Progress []PartitionProgress
}

// InputTopic is one input topic of the ledger and its partition count.
type InputTopic struct {
	Topic      string `json:"topic"`
	Partitions int32  `json:"partitions"`
}

// PartitionProgress is how far the ledger got in one input partition.
type PartitionProgress struct {
	Topic      string    `json:"topic"`
	Partition  int32     `json:"partition"`
	NextOffset int64     `json:"next_offset"`
	Watermark  time.Time `json:"watermark"` // largest occurred_at of the accepted records; zero: none
}

type progressWire struct {
	Kind     string              `json:"kind"`
	Inputs   []InputTopic        `json:"inputs"`
	Progress []progressEntryWire `json:"progress"`
}

type progressEntryWire struct {
	Topic      string `json:"topic"`
	Partition  int32  `json:"partition"`
	NextOffset int64  `json:"next_offset"`
	Watermark  string `json:"watermark,omitempty"`
}

// AppendLedgerProgress appends v as a marker value:
// {"kind":"ledger-progress","inputs":[{"topic":…,"partitions":…}],"progress":[{"topic":…,
// "partition":…,"next_offset":…,"watermark":"<RFC 3339>"}]} (watermark omitted when zero).
func AppendLedgerProgress(dst []byte, v LedgerProgress) []byte {
	w := progressWire{Kind: MarkerProgress, Inputs: v.Inputs, Progress: make([]progressEntryWire, len(v.Progress))}
	for i, p := range v.Progress {
		w.Progress[i] = progressEntryWire{Topic: p.Topic, Partition: p.Partition, NextOffset: p.NextOffset}
		if !p.Watermark.IsZero() {
			w.Progress[i].Watermark = p.Watermark.UTC().Format(time.RFC3339Nano)
		}
	}
	b, _ := json.Marshal(w) // plain strings and integers: cannot fail
	return append(dst, b...)
}

// DecodeLedgerProgress decodes and validates a marker value: known kind, non-empty topics,
// partitions in range of their input's count, offsets not negative.
func DecodeLedgerProgress(data []byte) (LedgerProgress, error) {
	var w progressWire
	if err := json.Unmarshal(data, &w); err != nil {
		return LedgerProgress{}, fieldErr("", codeMalformed, "ledger progress: "+err.Error())
	}
	if w.Kind != MarkerProgress {
		return LedgerProgress{}, fieldErr("kind", codeInvalid, "not "+MarkerProgress+": "+quoteValue([]byte(w.Kind)))
	}
	if len(w.Inputs) == 0 {
		return LedgerProgress{}, fieldErr("inputs", codeMissing, "no input topics")
	}
	counts := make(map[string]int32, len(w.Inputs))
	for _, in := range w.Inputs {
		if in.Topic == "" || in.Partitions <= 0 {
			return LedgerProgress{}, fieldErr("inputs", codeInvalid, fmt.Sprintf("input %s with %d partitions", quoteValue([]byte(in.Topic)), in.Partitions))
		}
		if _, dup := counts[in.Topic]; dup {
			return LedgerProgress{}, fieldErr("inputs", codeDuplicate, "input "+quoteValue([]byte(in.Topic))+" twice")
		}
		counts[in.Topic] = in.Partitions
	}
	v := LedgerProgress{Inputs: w.Inputs, Progress: make([]PartitionProgress, len(w.Progress))}
	for i, p := range w.Progress {
		n, ok := counts[p.Topic]
		if !ok || p.Partition < 0 || p.Partition >= n || p.NextOffset < 0 {
			return LedgerProgress{}, fieldErr("progress", codeInvalid, fmt.Sprintf("%s/%d@%d is not an input partition",
				quoteValue([]byte(p.Topic)), p.Partition, p.NextOffset))
		}
		v.Progress[i] = PartitionProgress{Topic: p.Topic, Partition: p.Partition, NextOffset: p.NextOffset}
		if p.Watermark != "" {
			t, err := time.Parse(time.RFC3339Nano, p.Watermark)
			if err != nil {
				return LedgerProgress{}, fieldErr("progress", codeInvalid, "watermark "+quoteValue([]byte(p.Watermark))+" is not RFC 3339")
			}
			v.Progress[i].Watermark = t.UTC()
		}
	}
	return v, nil
}
