package schemas

import (
	"embed"
	"io/fs"
)

//go:embed *.schema.json
var schemaFiles embed.FS

// JSONSchema returns the JSON Schema (draft 2020-12) of a contract topic, looked up by its
// default name (TopicBookings and so on); ok is false for other names. The schema file is
// named after the topic: taskole.bookings.v1.schema.json.
//
// The schemas describe the wire format for producers and tools; the decoders are stricter
// in two ways a schema cannot express: a currency must be a known ISO 4217 code, and an
// amount may not need more decimal places than its currency's minor unit.
func JSONSchema(t Topic) (schema []byte, ok bool) {
	b, err := schemaFiles.ReadFile(string(t) + ".schema.json")
	if err != nil {
		return nil, false
	}
	return b, true
}

// SchemaFS returns the schema files, one "<topic>.schema.json" per contract topic.
func SchemaFS() fs.FS { return schemaFiles }
