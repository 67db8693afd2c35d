// Package migrations embeds the ClickHouse migrations of Taskole, applied by `taskole
// migrate` (see consumers/runners/migrate): the numbered files (NNNN_name.sql, in version
// order), then views.sql.
//
// Numbered files hold what stores rows: 0001–0099 the raw tables written by the sink, 0100
// and up the rollups, their materialized views and backfills. An applied file must never
// change (its checksum is recorded); add a new file instead. views.sql holds every plain
// view, each defined once, as it is now, in creation order: change a view there, in place,
// and migrate re-creates the views. superseded.txt and retired.txt list the checksums that
// databases migrated by the earlier layout recorded (numbered files that lost their views,
// and view-only files that were removed). Every statement must be idempotent (IF NOT EXISTS,
// …): ClickHouse has no transactional DDL, so a file that failed half-way is applied again
// from its start. Statements end with `;` at the end of a line; whole-line `--` comments are
// skipped.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql superseded.txt retired.txt
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }
