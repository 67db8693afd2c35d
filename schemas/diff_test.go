package schemas

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// Differential tests: the single-pass decoders (decode.go, scan.go) against the fastjson
// decoders they replaced (decode_fastjson_test.go). For any input both must return the same
// event (decimals with the same coefficient and exponent, times at the same instant in UTC)
// or the same *InvalidError (Field, Label and Error text).
//
//	go test -run='^$' -fuzz=FuzzDiffBooking -fuzztime=60s ./schemas/

// diffSeeds are the records every differential fuzzer starts from: every sample of every
// topic, the corpora the FuzzDecode* fuzzers built in the local Go cache (when present), and
// hand-made edge cases of the JSON grammar.
func diffSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, benchBooking)
	if dir, err := os.UserCacheDir(); err == nil {
		cache := filepath.Join(dir, "go-build")
		if env := os.Getenv("GOCACHE"); env != "" {
			cache = env
		}
		files, _ := filepath.Glob(filepath.Join(cache, "fuzz", "github.com", "taskole", "revshare", "schemas", "*", "*"))
		for _, f := range files {
			if b, ok := readCorpusFile(f); ok {
				seeds = append(seeds, b)
			}
		}
	}
	for _, s := range []string{
		``, ` `, `{`, `}`, `{}`, ` {} `, `[]`, `"x"`, `1`, `-`, `nan`, `null`, `true`, `{}x`,
		`{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":1e}`, `{"a":-0.0e+5}`, `{"a":NaN}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\x01\\n\"}",
		"{\"a\":\"\\n\x01\"}", "{\"a\x01\":1}", "{\"a\x01\\t\":1}", `{"a":"\ud800"}`,
		`{"event_id":"\ud800\u0041"}`, `{"event_id":"\udc00"}`, `{"event_id":"\ud83d\ude00"}`,
		`{"event\u005fid":"a","event_id":"b"}`, `{"event_id":"a","event_id":"b"}`,
		"{\"event_id\":\"\xff\"}", `{"event_id":"a\"b\\"}`, `{"a":[1,[2,{"b":null}]],"c":{}}`,
		`{"a":[1,]}`, `{"a":[,1]}`, `{"a":tru}`, `{"a":falsey}`, `{"score":7.0}`, `{"score":1e1}`,
		`{"score":-0}`, `{"score":1e400}`, `{"partition":2147483648}`, `{"offset":9223372036854775808}`,
		`{"commission_ids":[]}`, `{"commission_ids":["a",""]}`, `{"commission_ids":["a",1]}`,
		`{"commission_ids":"a"}`, `{"key":null,"value":"AAEC"}`, `{"amount":"-0"}`, `{"amount":49.9}`,
		`{"amount":"1234567890123456789.5","currency":"EUR"}`, `{"amount":"0.000000000000000001"}`,
		strings.Repeat("[", 299) + strings.Repeat("]", 299), strings.Repeat("[", 300) + strings.Repeat("]", 300),
		strings.Repeat("[", 301) + strings.Repeat("]", 301), `{"a":` + strings.Repeat("[", 299) + strings.Repeat("]", 299) + `}`,
		`{"a":` + strings.Repeat("[", 298) + "1" + strings.Repeat("]", 298) + `}`,
		`{"a":` + strings.Repeat("[", 299) + "1" + strings.Repeat("]", 299) + `}`,
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `, "b":x}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// readCorpusFile reads a "go test fuzz v1" file holding one []byte value.
func readCorpusFile(path string) ([]byte, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	lines := strings.SplitN(string(b), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, false
	}
	lit := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
		return nil, false
	}
	s, err := strconv.Unquote(lit[len("[]byte(") : len(lit)-1])
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}

// fuzzDiff checks that decode (new) and old agree on every input.
func fuzzDiff[T any](f *testing.F, decode, old func([]byte) (T, error), check ...func(T) error) {
	for _, s := range diffSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		got, gerr := decode(data)
		want, werr := old(data)
		if !bytes.Equal(in, data) {
			t.Fatalf("decoder modified its input")
		}
		if g := (*InvalidError)(nil); errors.As(gerr, &g) && isBoundsError(g) && len(check) > 0 {
			// The bounds of SPEC R8 are newer than the former decoder: it either refused the
			// record for another reason or accepted a value the bounds refuse.
			if werr == nil && check[0](want) == nil {
				t.Fatalf("%q: new refuses with %v, the former decoder and the bounds accept %+v", data, gerr, want)
			}
			return
		}
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q:\n new: %+v, %v\n old: %+v, %v", data, got, gerr, want, werr)
		}
		if gerr != nil {
			var g, w *InvalidError
			if !errors.As(gerr, &g) || !errors.As(werr, &w) {
				t.Fatalf("%q: errors are not *InvalidError: %T, %T", data, gerr, werr)
			}
			if w.code == codeMalformed { // the scanner's wording is capped (capText)
				if m, ok := strings.CutPrefix(w.Reason, "malformed JSON: "); ok {
					w = fieldErr(w.Field, w.code, "malformed JSON: "+capText(m, maxMalformedText))
				}
			}
			if g.Field != w.Field || g.Label() != w.Label() || g.Error() != w.Error() {
				t.Fatalf("%q:\n new error %s (%s)\n old error %s (%s)", data, g.Label(), g, w.Label(), w)
			}
			return
		}
		if !sameEvent(reflect.ValueOf(got), reflect.ValueOf(want)) {
			t.Fatalf("%q:\n new %+v\n old %+v", data, got, want)
		}
	})
}

// sameEvent compares two decoded events field by field, more strictly than equalEvents:
// decimals must have the same coefficient and exponent, times the same instant and location.
func sameEvent(a, b reflect.Value) bool {
	return fieldsMatch(a, b, func(x, y decimal.Decimal) bool {
		return x.Exponent() == y.Exponent() && x.Coefficient().Cmp(y.Coefficient()) == 0
	})
}

// isBoundsError tells a refusal by the bounds (Bounds) from one by the JSON contract.
func isBoundsError(e *InvalidError) bool {
	return e.code == codeRange || strings.HasPrefix(e.Reason, "longer than ") ||
		strings.HasPrefix(e.Reason, "contains a control character")
}

func FuzzDiffEnrollment(f *testing.F) {
	fuzzDiff(f, DecodeEnrollment, fjDecodeEnrollment, Bounds{}.CheckEnrollment)
}
func FuzzDiffBooking(f *testing.F) {
	fuzzDiff(f, DecodeBooking, fjDecodeBooking, Bounds{}.CheckBooking)
}
func FuzzDiffBusiness(f *testing.F) {
	fuzzDiff(f, DecodeBusiness, fjDecodeBusiness, Bounds{}.CheckBusiness)
}
func FuzzDiffFeedback(f *testing.F) {
	fuzzDiff(f, DecodeFeedback, fjDecodeFeedback, func(v Feedback) error {
		return Bounds{}.CheckEnrollment(Enrollment{EventID: v.EventID, ClientID: v.ClientID, BusinessID: v.BusinessID, OccurredAt: v.OccurredAt})
	})
}
func FuzzDiffAcquisitionCost(f *testing.F) {
	fuzzDiff(f, DecodeAcquisitionCost, fjDecodeAcquisitionCost, func(v AcquisitionCost) error {
		if err := (Bounds{}).CheckBooking(Booking{EventID: v.EventID, BookingID: "b", ClientID: "c", BusinessID: v.BusinessID,
			Amount: v.Amount, Currency: v.Currency, Category: v.Channel, OccurredAt: v.OccurredAt}); err != nil {
			return err
		}
		return nil
	})
}
func FuzzDiffReferralOwner(f *testing.F) { fuzzDiff(f, DecodeReferralOwner, fjDecodeReferralOwner) }
func FuzzDiffCommission(f *testing.F)    { fuzzDiff(f, DecodeCommission, fjDecodeCommission) }
func FuzzDiffPayout(f *testing.F)        { fuzzDiff(f, DecodePayout, fjDecodePayout) }
func FuzzDiffDeadLetter(f *testing.F)    { fuzzDiff(f, DecodeDeadLetter, fjDecodeDeadLetter) }

// BenchmarkDecodeBookingFastjson is the former decoder, for a same-run comparison with
// BenchmarkDecodeBooking.
func BenchmarkDecodeBookingFastjson(b *testing.B) { benchDecodeBooking(b, fjDecodeBooking) }

// TestFieldTables checks that every event type's field table finds each name with one probe.
func TestFieldTables(t *testing.T) {
	for _, fs := range []*fields{enrollmentFields, bookingFields, businessFields, feedbackFields,
		acquisitionCostFields, retentionCostFields, referralOwnerFields, commissionFields, payoutFields, deadLetterFields} {
		if fs.linear {
			t.Errorf("%v: two names share a slot; change fieldSlot", fs.names)
		}
		for i, n := range fs.names {
			if got := fs.lookup([]byte(n), false); got != i {
				t.Errorf("lookup(%q) = %d, want %d", n, got, i)
			}
		}
	}
}

// BenchmarkDecodeBookingScanOnly measures the single JSON pass of DecodeBooking alone
// (syntax check and field positions, no field conversion).
func BenchmarkDecodeBookingScanOnly(b *testing.B) {
	b.SetBytes(int64(len(benchBooking)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		var r reader
		if !r.parse(benchBooking, bookingFields) {
			b.Fatal(r.err)
		}
	}
}
