package schemas

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// fuzzCodec seeds f with every sample of topic and checks, for any input: the decoder does
// not panic; a failure is a *InvalidError with a label; a success survives encode → decode
// unchanged and encodes to the same bytes again.
func fuzzCodec(f *testing.F, topic Topic) {
	paths, _ := filepath.Glob(filepath.Join("testdata", string(topic), "*", "*.json"))
	for _, p := range paths {
		f.Add(readSample(f, p))
	}
	cd := codecs[topic]
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := cd.decode(data)
		if err != nil {
			var fe *InvalidError
			if !errors.As(err, &fe) || fe.Label() == "" {
				t.Fatalf("error %v (%T) is not a labelled *InvalidError", err, err)
			}
			return
		}
		enc := cd.encode(nil, v)
		back, err := cd.decode(enc)
		if err != nil {
			t.Fatalf("decoding the encoded form %s of %q: %v", enc, data, err)
		}
		if !equalEvents(v, back) {
			t.Fatalf("round trip of %q changed the event:\n got %+v\nwant %+v", data, back, v)
		}
		if again := cd.encode(nil, back); !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, again)
		}
	})
}

func FuzzDecodeEnrollment(f *testing.F)      { fuzzCodec(f, TopicEnrollments) }
func FuzzDecodeBooking(f *testing.F)         { f.Add(benchBooking); fuzzCodec(f, TopicBookings) }
func FuzzDecodeBusiness(f *testing.F)        { fuzzCodec(f, TopicBusinesses) }
func FuzzDecodeFeedback(f *testing.F)        { fuzzCodec(f, TopicFeedback) }
func FuzzDecodeAcquisitionCost(f *testing.F) { fuzzCodec(f, TopicAcquisitionCosts) }
func FuzzDecodeRetentionCost(f *testing.F)   { fuzzCodec(f, TopicRetentionCosts) }
func FuzzDecodeReferralOwner(f *testing.F)   { fuzzCodec(f, TopicReferralOwners) }
func FuzzDecodeCommission(f *testing.F)      { fuzzCodec(f, TopicCommissions) }
func FuzzDecodePayout(f *testing.F)          { fuzzCodec(f, TopicPayouts) }
func FuzzDecodeDeadLetter(f *testing.F)      { fuzzCodec(f, TopicDLQ) }
func FuzzDecodePurchaseFact(f *testing.F)    { fuzzCodec(f, TopicPurchaseFacts) }
