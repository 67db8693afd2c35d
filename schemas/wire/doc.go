// Package wire holds the binary primitives of the state changelogs: a bounds-checked reader
// that records the first error instead of panicking, and the matching append helpers.
//
// Integers are varints (encoding/binary), hashes fixed 8-byte little-endian, strings and raw
// bytes a uvarint length then the bytes, flags one byte 0 or 1. The formats built on it are
// persisted in compacted topics: changing an encoding here changes every changelog.
package wire
