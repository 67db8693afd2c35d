package schemas

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/shopspring/decimal"
)

// codec is the decoder and encoder of one topic, type-erased for table-driven tests.
type codec struct {
	decode func([]byte) (any, error)
	encode func([]byte, any) []byte
}

func codecOf[T any](dec func([]byte) (T, error), enc func([]byte, T) []byte) codec {
	return codec{
		decode: func(b []byte) (any, error) { return dec(b) },
		encode: func(dst []byte, v any) []byte { return enc(dst, v.(T)) },
	}
}

var codecs = map[Topic]codec{
	TopicEnrollments:      codecOf(DecodeEnrollment, AppendEnrollment),
	TopicBookings:         codecOf(DecodeBooking, AppendBooking),
	TopicBusinesses:       codecOf(DecodeBusiness, AppendBusiness),
	TopicFeedback:         codecOf(DecodeFeedback, AppendFeedback),
	TopicAcquisitionCosts: codecOf(DecodeAcquisitionCost, AppendAcquisitionCost),
	TopicRetentionCosts:   codecOf(DecodeRetentionCost, AppendRetentionCost),
	TopicReferralOwners:   codecOf(DecodeReferralOwner, AppendReferralOwner),
	TopicCommissions:      codecOf(DecodeCommission, AppendCommission),
	TopicPayouts:          codecOf(DecodePayout, AppendPayout),
	TopicDLQ:              codecOf(DecodeDeadLetter, AppendDeadLetter),
	TopicPurchaseFacts:    codecOf(DecodePurchaseFact, AppendPurchaseFact),
}

// decoderOnly lists the invalid samples that the Go decoder rejects but JSON Schema cannot:
// the schema must accept them (so the list stays honest) and the decoder must reject them.
var decoderOnly = map[string]string{
	"taskole.enrollments.v1/event_id.duplicate--twice":                          "JSON Schema sees one value per key (the loader keeps the last); the decoder rejects ambiguous duplicates",
	"taskole.enrollments.v1/client_id.invalid--bad-utf8":                        "the schema loader replaces invalid UTF-8 with U+FFFD; the decoder rejects it",
	"taskole.bookings.v1/currency.invalid--unknown-code":                        "ABC matches ^[A-Z]{3}$ but is not an ISO 4217 code",
	"taskole.bookings.v1/amount.invalid--too-many-places-eur":                   "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.bookings.v1/amount.invalid--fraction-jpy":                          "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.businesses.v1/occurred_at.invalid--leap-second":                    "format date-time allows 23:59:60Z; Go's time.Time cannot hold a leap second",
	"taskole.acquisition-costs.v1/currency.invalid--no-currency-code":           "XXX matches ^[A-Z]{3}$ but has no minor unit (ISO 4217 'no currency')",
	"taskole.acquisition-costs.v1/amount.invalid--too-many-places-kwd":          "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.commissions.v1/amount.invalid--too-many-places":                    "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.retention-costs.v1/currency.invalid--unknown-code":                 "ABC matches ^[A-Z]{3}$ but is not an ISO 4217 code",
	"taskole.retention-costs.v1/amount.invalid--too-many-places-eur":            "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.retention-costs.v1/amount.invalid--fraction-jpy":                   "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.retention-costs.v1/event_id.duplicate--twice":                      "JSON Schema sees one value per key (the loader keeps the last); the decoder rejects ambiguous duplicates",
	"taskole.purchase-facts.v1/amount.invalid--too-many-places":                 "decimal places depend on the currency's ISO 4217 minor unit",
	"taskole.purchase-facts.v1/amount.invalid--wrong-sign":                      "the sign of amount depends on the value of purchases",
	"taskole.purchase-facts.v1/refunded.invalid--negative-without-cancellation": "the sign of refunded depends on the value of purchases",
	"taskole.purchase-facts.v1/completed_at.range--before-1970":                 "the time bounds (SPEC R8) are the decoder's, configurable per deployment",
}

func compileSchema(t *testing.T, topic Topic) *jsonschema.Schema {
	t.Helper()
	raw, ok := JSONSchema(topic)
	if !ok {
		t.Fatalf("no JSON Schema for %s", topic)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing schema of %s: %v", topic, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "https://schemas.taskole.dev/" + string(topic) + ".schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling schema of %s: %v", topic, err)
	}
	return sch
}

func schemaValidate(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func allTopics() []Topic {
	t := Topics{}.WithDefaults()
	return []Topic{t.Enrollments, t.Bookings, t.Businesses, t.Feedback, t.AcquisitionCosts,
		t.RetentionCosts, t.ReferralOwners, t.Commissions, t.Payouts, t.DLQ, t.PurchaseFacts}
}

// TestSamples checks every sample under testdata/<topic>/{valid,invalid} against both the
// JSON Schema and the Go decoder. Invalid samples are named "<field>.<code>--<what>.json"
// and the decoder's InvalidError.Label must be "<field>:<code>". Valid samples must also
// survive decode → encode → decode unchanged, and the encoded form must satisfy the schema.
func TestSamples(t *testing.T) {
	seenDecoderOnly := map[string]bool{}
	for _, topic := range allTopics() {
		t.Run(string(topic), func(t *testing.T) {
			sch := compileSchema(t, topic)
			cd := codecs[topic]
			valid, _ := filepath.Glob(filepath.Join("testdata", string(topic), "valid", "*.json"))
			invalid, _ := filepath.Glob(filepath.Join("testdata", string(topic), "invalid", "*.json"))
			if len(valid) == 0 || len(invalid) == 0 {
				t.Fatalf("want valid and invalid samples for %s, got %d and %d", topic, len(valid), len(invalid))
			}
			for _, path := range valid {
				data := readSample(t, path)
				v, err := cd.decode(data)
				if err != nil {
					t.Errorf("%s: decoder rejects a valid sample: %v", path, err)
					continue
				}
				if err := schemaValidate(sch, data); err != nil {
					t.Errorf("%s: schema rejects a valid sample: %v", path, err)
				}
				enc := cd.encode(nil, v)
				if err := schemaValidate(sch, enc); err != nil {
					t.Errorf("%s: schema rejects the encoded form %s: %v", path, enc, err)
				}
				back, err := cd.decode(enc)
				if err != nil {
					t.Errorf("%s: decoding the encoded form %s: %v", path, enc, err)
				} else if !equalEvents(v, back) {
					t.Errorf("%s: round trip changed the event:\n got %+v\nwant %+v", path, back, v)
				}
			}
			for _, path := range invalid {
				data := readSample(t, path)
				name := strings.TrimSuffix(filepath.Base(path), ".json")
				wantLabel := strings.Replace(strings.SplitN(name, "--", 2)[0], ".", ":", 1)
				_, err := cd.decode(data)
				var fe *InvalidError
				switch {
				case err == nil:
					t.Errorf("%s: decoder accepts an invalid sample", path)
				case !errors.As(err, &fe):
					t.Errorf("%s: decoder error %v is not a *InvalidError", path, err)
				case fe.Label() != wantLabel:
					t.Errorf("%s: label %q, want %q (error: %v)", path, fe.Label(), wantLabel, err)
				}
				key := string(topic) + "/" + name
				schemaErr := schemaValidate(sch, data)
				if reason, ok := decoderOnly[key]; ok {
					seenDecoderOnly[key] = true
					if schemaErr != nil {
						t.Errorf("%s: listed as decoder-only (%s) but the schema rejects it too: %v", path, reason, schemaErr)
					}
					continue
				}
				if schemaErr == nil {
					t.Errorf("%s: schema accepts an invalid sample the decoder rejects (%v)", path, err)
				}
			}
		})
	}
	for key := range decoderOnly {
		if !seenDecoderOnly[key] {
			t.Errorf("decoder-only entry %s has no sample", key)
		}
	}
}

func readSample(t testing.TB, path string) []byte {
	t.Helper()
	b, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readFile reads a sample without the trailing newline the files end with.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	return bytes.TrimSuffix(b, []byte("\n")), err
}

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	timeType    = reflect.TypeFor[time.Time]()
	bytesType   = reflect.TypeFor[[]byte]()
)

// equalEvents compares two decoded events field by field: decimals by value, times by
// instant, byte slices by content and nil-ness (a null Kafka key is not an empty one).
func equalEvents(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || va.Kind() != reflect.Struct {
		return false
	}
	return fieldsMatch(va, vb, decimal.Decimal.Equal)
}

// fieldsMatch compares the fields of two events of one struct type: decimals with sameDecimal,
// times by instant and location, byte slices by content and nil-ness, the rest deeply.
func fieldsMatch(va, vb reflect.Value, sameDecimal func(x, y decimal.Decimal) bool) bool {
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		switch fa.Type() {
		case decimalType:
			if !sameDecimal(fa.Interface().(decimal.Decimal), fb.Interface().(decimal.Decimal)) {
				return false
			}
		case timeType:
			ta, tb := fa.Interface().(time.Time), fb.Interface().(time.Time)
			if !ta.Equal(tb) || ta.Location() != tb.Location() {
				return false
			}
		case bytesType:
			ba, bb := fa.Bytes(), fb.Bytes()
			if !bytes.Equal(ba, bb) || (ba == nil) != (bb == nil) {
				return false
			}
		default:
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				return false
			}
		}
	}
	return true
}

func TestEverySchemaIsEmbedded(t *testing.T) {
	for _, topic := range allTopics() {
		if _, ok := JSONSchema(topic); !ok {
			t.Errorf("no schema for %s", topic)
		}
		if _, ok := codecs[topic]; !ok {
			t.Errorf("no codec for %s", topic)
		}
	}
	if _, ok := JSONSchema("taskole.unknown.v1"); ok {
		t.Error("JSONSchema returns a schema for an unknown topic")
	}
}
