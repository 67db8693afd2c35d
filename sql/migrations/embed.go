// Package migrations embeds the numbered ClickHouse migrations of Taskole
// (NNNN_name.sql, applied in version order by `taskole migrate`, see consumers/runners/migrate).
//
// Numbering: 0001–0099 raw tables written by the sink, 0100 and up the analytics
// aggregates built on them. An applied file must never change (its checksum is recorded);
// add a new file instead. The one exception is superseded.txt: checksums of earlier versions
// that differ only in plain views, which consumers/runners/migrate upgrades by re-creating the views. Every statement must be idempotent (IF NOT EXISTS, …): ClickHouse
// has no transactional DDL, so a file that failed half-way is applied again from its start.
// Statements end with `;` at the end of a line; whole-line `--` comments are skipped.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql superseded.txt
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }
