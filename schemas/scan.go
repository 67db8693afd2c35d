package schemas

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The decoders' JSON scanner: one pass over a record that checks its syntax and picks out
// the contract fields of its top-level object, with no allocation. It accepts exactly what
// the former decoder accepted, which was fastjson's strict validator followed by fastjson's
// parser; diff_test.go fuzzes the two against each other. The accepted set, in short:
// RFC 8259 JSON (whitespace is space, tab, CR, LF; numbers without leading zeros, NaN or a
// bare minus; escapes \" \\ \/ \b \f \n \r \t \uXXXX), nesting at most 300 deep (fastjson's
// MaxDepth), and one inherited leniency: a raw control character inside a string is
// rejected only when no escape sequence follows it in the same string. Bytes are not
// checked for UTF-8 here; the decoders check the contract strings they read.

// maxDepth is fastjson.MaxDepth: a value nested deeper makes the record malformed.
const maxDepth = 300

// kind is the JSON type of a value, named in error reasons as fastjson named it.
type kind uint8

const (
	kindAbsent kind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

var kindNames = [...]string{kindAbsent: "absent", kindObject: "object", kindArray: "array",
	kindString: "string", kindNumber: "number", kindTrue: "true", kindFalse: "false", kindNull: "null"}

func (k kind) String() string { return kindNames[k] }

// value is one contract field as found in the record: its type and its raw text (a
// string's bytes between the quotes, escapes not yet decoded; a number's text; an array's
// text with its brackets). raw points into the record.
type value struct {
	raw  []byte
	kind kind
	esc  bool // a string with at least one escape sequence
}

// parse scans data, which must be one JSON object, and records the values of the named
// fields in r.vals. Unknown fields are skipped (producers evolve) but checked like the rest;
// a contract field that occurs twice is an error, because JSON parsers disagree on which
// occurrence wins. Malformed JSON wins over a duplicate field.
func (r *reader) parse(data []byte, fs *fields) bool {
	r.names, r.fs = fs.names, fs
	i := skipWS(data, 0)
	if i < len(data) && data[i] == '{' {
		if end, ok := scanObject(data, i+1, 1, r); ok && skipWS(data, end) == len(data) {
			return r.err == nil
		}
	} else if end, _, ok := skipValue(data, i, 1); ok && skipWS(data, end) == len(data) {
		r.err = fieldErr("", codeNotObject, "not a JSON object")
		return false
	}
	r.err = malformed(data)
	return false
}

// scanObject checks the members of an object after its '{', nested depth deep (the top level
// is 1), and returns the index after its '}'. With a reader (the top-level object) it records
// the values of the reader's fields in r.vals; with none it only checks them.
func scanObject(b []byte, i, depth int, r *reader) (int, bool) {
	if i, done := opened(b, i, '}'); done {
		return i, i > 0
	}
	for {
		var ok bool
		if i, ok = key(b, i); !ok {
			return 0, false
		}
		kend, kesc, ok := scanString(b, i)
		if !ok {
			return 0, false
		}
		f := -1
		if r != nil {
			f = r.fs.lookup(b[i:kend], kesc)
		}
		if i, ok = colon(b, kend+1); !ok {
			return 0, false
		}
		var v value
		if i < len(b) && b[i] == '"' {
			end, esc, ok := scanString(b, i+1)
			if !ok {
				return 0, false
			}
			v = value{raw: b[i+1 : end], kind: kindString, esc: esc}
			i = end + 1
		} else {
			start := i
			var k kind
			if i, k, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			v = value{raw: b[start:i], kind: k}
		}
		if f >= 0 {
			if r.vals[f].kind != kindAbsent && r.err == nil {
				r.err = fieldErr(r.names[f], codeDuplicate, "occurs more than once")
			}
			r.vals[f] = v
		}
		var done bool
		if i, done = next(b, i, '}'); done {
			return i, i > 0
		}
	}
}

// opened skips the white space after the '{' or '[' at b[i-1]; done is set when the object
// or array ends there (i after its close, or 0 when b ends first).
func opened(b []byte, i int, close byte) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, true
	}
	if b[i] == close {
		return i + 1, true
	}
	return i, false
}

// next skips the white space and the ',' after a member or element that ends at b[i-1];
// done is set when its object or array closes instead (i after the close) or is malformed
// (i 0).
func next(b []byte, i int, close byte) (int, bool) {
	i = skipWS(b, i)
	if i < len(b) {
		switch b[i] {
		case ',':
			return i + 1, false
		case close:
			return i + 1, true
		}
	}
	return 0, true
}

// key checks that the object member at b[i:] (white space first) starts with its key's
// opening quote and returns the index after it.
func key(b []byte, i int) (int, bool) {
	i = skipWS(b, i)
	return i + 1, i < len(b) && b[i] == '"'
}

// colon checks the ':' (white space around it) after a member's key that ends at b[i-1] and
// returns the index of its value.
func colon(b []byte, i int) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, false
	}
	return skipWS(b, i+1), true
}

// fields is the field list of one event type, in contract order, with a table that finds a
// key's index with one probe.
type fields struct {
	names  []string
	slots  [64]int8 // 1 + index of the name in the key's slot, 0 for none
	linear bool     // two names share a slot: search the list instead
	text   uint32   // bit i: names[i] is read as a string kept in the event (id, text)
}

// withText marks the fields the decoder keeps as strings, so that keep can size one buffer
// for all of them.
func (fs *fields) withText(idx ...int) *fields {
	for _, i := range idx {
		fs.text |= 1 << i
	}
	return fs
}

func newFields(names ...string) *fields {
	fs := &fields{names: names}
	for i, n := range names {
		h := fieldSlot([]byte(n))
		if fs.slots[h] != 0 || i >= 127 {
			fs.linear = true
		}
		fs.slots[h] = int8(i + 1)
	}
	return fs
}

// fieldSlot hashes a non-empty key by its length, middle and last bytes (no collision among
// the names of any event type today; newFields falls back to a linear search if one appears).
func fieldSlot(key []byte) int {
	return (len(key) + int(key[len(key)-1]) + 2*int(key[len(key)/2])) & 63
}

// lookup returns the index of key (raw, escaped when esc) in the field list, or -1.
func (fs *fields) lookup(key []byte, esc bool) int {
	if esc {
		key = unescape(nil, key)
	}
	if len(key) == 0 {
		return -1
	}
	if fs.linear {
		for i, n := range fs.names {
			if n == string(key) {
				return i
			}
		}
		return -1
	}
	if i := int(fs.slots[fieldSlot(key)]) - 1; i >= 0 && fs.names[i] == string(key) {
		return i
	}
	return -1
}

// malformed words the error for a record the scanner rejected exactly as the former
// decoder did: fastjson's validator message, or its parser's for nesting beyond maxDepth.
// Only bad records pay for it.
func malformed(data []byte) *InvalidError {
	err := fastjson.ValidateBytes(data)
	if err == nil {
		p := parsers.Get()
		_, err = p.ParseBytes(data)
		parsers.Put(p)
	}
	reason := "malformed JSON"
	if err != nil {
		reason += ": " + capText(err.Error(), maxMalformedText) // 10k-deep nesting repeats its context per level
	}
	return fieldErr("", codeMalformed, reason)
}

// capText returns msg, cut to at most n bytes (on a rune start) plus "…(N bytes)" when longer.
func capText(msg string, n int) string {
	if len(msg) <= n {
		return msg
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…(" + itoa(len(msg)) + " bytes)"
}

// maxMalformedText caps the parser's wording of a malformed record in the error.
const maxMalformedText = 256

// parsers recycles the fastjson parsers that word malformed-record errors.
var parsers fastjson.ParserPool

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\n', '\t', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString checks the string that starts after the opening quote at b[i-1] and returns
// the index of its closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, esc, ok bool) {
	clean := i // a control character before clean (before the last escape) is tolerated
	ctl := -1  // the last control character
	for i < len(b) {
		// Skip eight plain bytes at a time: none is '"', '\\' or below 0x20. The lowest
		// flagged byte is exact (the bit tricks only misflag bytes above a real match).
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := special(w); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i, esc, ctl < clean
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
			clean = i
		case c < 0x20:
			ctl = i
			i++
		default:
			i++
		}
	}
	return 0, false, false
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special flags (high bit of the byte) the bytes of w that are '"', '\\' or below 0x20.
func special(w uint64) uint64 {
	q := w ^ (ones * '"')
	s := w ^ (ones * '\\')
	return ((q-ones)&^q | (s-ones)&^s | (w-ones*0x20)&^w) & highs
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber checks the number at b[i:] and returns the index after it.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	i, ok := digitRun(b, i)
	if !ok || (b[start] == '0' && i-start != 1) {
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		if i, ok = digitRun(b, i+1); !ok {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digitRun(b, i); !ok {
			return 0, false
		}
	}
	return i, true
}

// digitRun skips the digits at b[i:] and returns the index after them; ok is false when
// there are none.
func digitRun(b []byte, i int) (int, bool) {
	start := i
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i, i > start
}

// skipValue checks the value at b[i:], nested depth deep (the top level is 1), and returns
// the index after it and its kind.
func skipValue(b []byte, i, depth int) (int, kind, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, kindAbsent, false
	}
	switch b[i] {
	case '{':
		end, ok := scanObject(b, i+1, depth, nil)
		return end, kindObject, ok
	case '[':
		end, ok := skipArray(b, i+1, depth)
		return end, kindArray, ok
	case '"':
		end, _, ok := scanString(b, i+1)
		return end + 1, kindString, ok
	case 't':
		return i + 4, kindTrue, bytes.HasPrefix(b[i:], []byte("true"))
	case 'f':
		return i + 5, kindFalse, bytes.HasPrefix(b[i:], []byte("false"))
	case 'n':
		return i + 4, kindNull, bytes.HasPrefix(b[i:], []byte("null"))
	}
	end, ok := scanNumber(b, i)
	return end, kindNumber, ok
}

// skipArray checks the elements of an array after its '['.
func skipArray(b []byte, i, depth int) (int, bool) {
	if i, done := opened(b, i, ']'); done {
		return i, i > 0
	}
	for {
		var ok bool
		if i, _, ok = skipValue(b, skipWS(b, i), depth+1); !ok {
			return 0, false
		}
		var done bool
		if i, done = next(b, i, ']'); done {
			return i, i > 0
		}
	}
}

// unescapeU appends the character of a \u escape whose hex digits (and, for a surrogate
// pair, second escape) start s, and returns the rest of s. A malformed escape is kept as it
// stands, as unescape does.
func unescapeU(dst, s []byte) ([]byte, []byte) {
	if len(s) < 4 {
		return append(dst, `\u`...), s
	}
	xs := s[:4]
	x, err := strconv.ParseUint(string(xs), 16, 16)
	if err != nil {
		return append(dst, `\u`...), s
	}
	s = s[4:]
	if !utf16.IsSurrogate(rune(x)) {
		return utf8.AppendRune(dst, rune(x)), s
	}
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return append(append(dst, `\u`...), xs...), s
	}
	x1, err := strconv.ParseUint(string(s[2:6]), 16, 16)
	if err != nil {
		return append(append(dst, `\u`...), xs...), s
	}
	return utf8.AppendRune(dst, utf16.DecodeRune(rune(x), rune(x1))), s[6:]
}

// unescape appends s with its escape sequences decoded to dst, exactly as fastjson decoded
// them (unescapeStringBestEffort): a lone or mismatched UTF-16 surrogate is kept as the
// text \uXXXX, or becomes U+FFFD when another \u escape follows it.
func unescape(dst, s []byte) []byte {
	n := bytes.IndexByte(s, '\\')
	if n < 0 {
		return append(dst, s...)
	}
	dst = append(dst, s[:n]...)
	s = s[n+1:]
	for len(s) > 0 {
		ch := s[0]
		s = s[1:]
		switch ch {
		case '"', '\\', '/':
			dst = append(dst, ch)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			dst, s = unescapeU(dst, s)
		default:
			dst = append(dst, '\\', ch)
		}
		n = bytes.IndexByte(s, '\\')
		if n < 0 {
			dst = append(dst, s...)
			break
		}
		dst = append(dst, s[:n]...)
		s = s[n+1:]
	}
	return dst
}
