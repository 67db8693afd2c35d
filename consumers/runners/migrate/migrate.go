// Package migrate applies the numbered ClickHouse migrations of sql/migrations (or any
// fs.FS of NNNN_name.sql files), then its views file, and records them in a
// schema_migrations table.
//
// Up creates the database when missing, applies the pending files in version order,
// statement by statement, and records each file (version, name, SHA-256 checksum, time)
// after all its statements succeeded. Running it again is a no-op. A file that was applied
// and has changed since is an error, and so is a recorded version the files do not have:
// both mean the binary and the database disagree about the schema. A failing statement
// stops Up with the file, the statement's line and its first line named.
//
// The views file: views.sql beside the numbered files holds plain views only (CREATE VIEW IF
// NOT EXISTS ...), each defined once, in creation order. A view stores nothing, so it is not
// history: after the numbered files, Up drops and re-creates every view of the file, in file
// order, whenever the file's checksum is not the one last recorded (version 0, name "views"),
// and records it. Change a view there, in place.
//
// Superseded versions: a numbered file may list, in superseded.txt beside the migrations,
// checksums of its earlier versions that differ only in plain views (their statements and the
// DROP TABLE IF EXISTS of a view), e.g. from before the views moved to views.sql. A database
// that recorded such a checksum is not an error: Up re-creates the plain views of that file
// and of every later applied file (later files win, as on a fresh install), then records the
// file's current checksum. Tables, materialized views and inserts are never re-run, so a
// superseded entry is only for view-only changes.
//
// Retired files: retired.txt lists numbered files that held only plain views and were
// removed when their views moved to views.sql, with the checksums a database may have
// recorded for them. Up accepts those records and applies nothing for them.
//
// Between a view's drop and its re-creation queries of it fail: run migrate as a deploy
// step, as always.
//
// ClickHouse has no transactional DDL: a file that failed half-way is applied again from its
// first statement next time, so statements must be idempotent (IF NOT EXISTS), or an ALTER
// TABLE … ADD COLUMN of one column, which Up counts as done when the column exists (18.16 has
// no ADD COLUMN IF NOT EXISTS). Up does not lock; run one migrate at a time (it is a deploy
// step).
package migrate

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migration is one numbered file, or the views file (Views).
type Migration struct {
	Version  int    // the NNNN prefix; 0 for the views file
	Name     string // the file name without .sql: "0001_raw", "views"
	SQL      string
	Checksum string // hex SHA-256 of the file's bytes
	// Superseded are checksums of earlier versions of the file that a database may have
	// recorded and that Up upgrades by re-creating the file's views (see the package doc).
	Superseded []string
	// Views marks the views file (ViewsFile): plain views only, applied after the numbered
	// files whenever its checksum is not the one last recorded.
	Views bool
}

// Retired is a numbered file that was removed from the migrations (RetiredFile): a database
// may record it with one of Checksums.
type Retired struct {
	Version   int
	Name      string // without .sql
	Checksums []string
}

// Statement is one statement of a migration with the line it starts on (1-based).
type Statement struct {
	Line int
	SQL  string
}

// FirstLine returns the statement's first line, for error messages.
func (s Statement) FirstLine() string {
	first, _, _ := strings.Cut(s.SQL, "\n")
	return strings.TrimSpace(first)
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// The files of a migrations directory besides the numbered ones. SupersededFile and
// RetiredFile are tables of one `NNNN_name.sql <sha256 hex> [why]` per line; blank lines and
// `#` comments are skipped.
const (
	ViewsFile      = "views.sql"      // every plain view, as it is now (see the package doc)
	SupersededFile = "superseded.txt" // earlier checksums of numbered files
	RetiredFile    = "retired.txt"    // removed numbered files and their checksums
)

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// createView matches a plain view's statement (not a materialized one) and names it.
	createView = regexp.MustCompile(`(?is)^CREATE\s+VIEW\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\b`)
)

// checksumTable reads the table file name of fsys (none: an empty table): per migration file
// name, its listed checksums.
func checksumTable(fsys fs.FS, name string) (map[string][]string, error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	out := map[string][]string{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !fileName.MatchString(f[0]) || !sha256Hex.MatchString(f[1]) {
			return nil, fmt.Errorf("parsing %s line %d: want `NNNN_name.sql <sha256 hex> [why]`", name, n+1)
		}
		out[f[0]] = append(out[f[0]], f[1])
	}
	return out, nil
}

// LoadRetired reads RetiredFile of fsys, sorted by version. A listed file that exists is an
// error: a retired file is one the migrations no longer have.
func LoadRetired(fsys fs.FS) ([]Retired, error) {
	t, err := checksumTable(fsys, RetiredFile)
	if err != nil {
		return nil, err
	}
	var out []Retired
	for file, sums := range t {
		if _, err := fs.Stat(fsys, file); err == nil {
			return nil, fmt.Errorf("loading migrations: %s lists %s, which is still a migration file", RetiredFile, file)
		}
		m := fileName.FindStringSubmatch(file)
		v, _ := strconv.Atoi(m[1])
		out = append(out, Retired{Version: v, Name: strings.TrimSuffix(file, ".sql"), Checksums: sums})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("loading migrations: %s lists %s and %s, which share version %d", RetiredFile, out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// loadViews reads ViewsFile of fsys (none: nil), refusing any statement but a plain view and
// a view defined twice.
func loadViews(fsys fs.FS) (*Migration, error) {
	b, err := fs.ReadFile(fsys, ViewsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ViewsFile, err)
	}
	seen := map[string]int{}
	for _, s := range Split(string(b)) {
		v := createView.FindStringSubmatch(s.SQL)
		if v == nil {
			return nil, fmt.Errorf("loading migrations: %s line %d (%s) is not a CREATE VIEW IF NOT EXISTS; tables, materialized views and inserts belong in a numbered file", ViewsFile, s.Line, s.FirstLine())
		}
		if prev, ok := seen[v[1]]; ok {
			return nil, fmt.Errorf("loading migrations: %s defines view %s twice (lines %d and %d)", ViewsFile, v[1], prev, s.Line)
		}
		seen[v[1]] = s.Line
	}
	sum := sha256.Sum256(b)
	return &Migration{Name: strings.TrimSuffix(ViewsFile, ".sql"), SQL: string(b), Checksum: hex.EncodeToString(sum[:]), Views: true}, nil
}

// Load reads every NNNN_name.sql file at the root of fsys, sorted by version, then ViewsFile
// when there is one (Views set). Other files are ignored; two files with one version are an
// error, and so are malformed tables (SupersededFile, RetiredFile) and a views file with any
// statement but a plain view.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	old, err := checksumTable(fsys, SupersededFile)
	if err != nil {
		return nil, err
	}
	if _, err := LoadRetired(fsys); err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("loading migrations: %s: version 0000 is the views file's record", e.Name())
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("loading migrations: %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		mig, err := loadNumbered(fsys, e.Name(), v, old[e.Name()])
		if err != nil {
			return nil, err
		}
		out = append(out, mig)
		delete(old, e.Name())
	}
	if len(old) > 0 {
		names := make([]string, 0, len(old))
		for name := range old {
			names = append(names, name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("loading migrations: %s lists %s, which is not a migration file", SupersededFile, strings.Join(names, ", "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	views, err := loadViews(fsys)
	if err != nil {
		return nil, err
	}
	if views != nil {
		out = append(out, *views)
	}
	return out, nil
}

// loadNumbered reads the numbered file name of version v, with its superseded checksums.
func loadNumbered(fsys fs.FS, name string, v int, superseded []string) (Migration, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("reading migration %s: %w", name, err)
	}
	sum := sha256.Sum256(b)
	m := Migration{
		Version:  v,
		Name:     strings.TrimSuffix(name, path.Ext(name)),
		SQL:      string(b),
		Checksum: hex.EncodeToString(sum[:]),
	}
	for _, c := range superseded {
		if c == m.Checksum {
			return Migration{}, fmt.Errorf("loading migrations: %s lists the current checksum of %s as superseded", SupersededFile, name)
		}
		m.Superseded = append(m.Superseded, c)
	}
	return m, nil
}

// Split cuts a migration into statements: a statement ends at a line whose last
// non-blank character is `;`. Whole-line `--` comments and blank lines outside statements
// are skipped; a trailing statement without `;` is kept.
func Split(sql string) []Statement {
	var (
		out   []Statement
		cur   strings.Builder
		start int
	)
	sc := bufio.NewScanner(strings.NewReader(sql))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "--") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		} else {
			cur.WriteByte('\n')
		}
		if strings.HasSuffix(trim, ";") {
			cur.WriteString(strings.TrimSuffix(line, ";"))
			out = append(out, Statement{Line: start, SQL: strings.TrimSpace(cur.String())})
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, Statement{Line: start, SQL: s})
	}
	return out
}

// Config says where to migrate. The zero value migrates database taskole on 127.0.0.1:9000.
type Config struct {
	Addr     string // native protocol address; default 127.0.0.1:9000
	Database string // default taskole
	Username string // default: the server's default user
	Password string
	TLS      *tls.Config // nil: plaintext
	// Cluster, when set, names a remote_servers cluster: every DDL runs ON CLUSTER and
	// MergeTree tables become Replicated* (see OnCluster); on a cluster of several shards
	// each becomes a Replicated <name>_local and a Distributed <name> over it (see
	// OnShardedCluster). Empty: one server (the default).
	Cluster string
	Table   string        // the record of applied files; default schema_migrations
	Timeout time.Duration // per statement; default 5 minutes
	Logger  *slog.Logger  // default: discard

	shards int // of Cluster, from system.clusters (set by Up)
}

func (c Config) withDefaults() (Config, error) {
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:9000")
	c.Database = cmp.Or(c.Database, "taskole")
	c.Table = cmp.Or(c.Table, "schema_migrations")
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	ident := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	if !ident.MatchString(c.Database) {
		return c, fmt.Errorf("invalid database name %q", c.Database)
	}
	if !ident.MatchString(c.Table) {
		return c, fmt.Errorf("invalid table name %q", c.Table)
	}
	return c, nil
}

// Result tells what Up did.
type Result struct {
	Applied []Migration // applied now, in order
	Current int         // number of files that were already applied (upgraded ones included)
	// Upgraded are the applied files whose recorded checksum was a superseded one; their
	// views, and those of every later applied file, were re-created.
	Upgraded []Migration
}

// Up applies the pending migrations of fsys to cfg.Database; see the package comment.
func Up(ctx context.Context, cfg Config, fsys fs.FS) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	ms, err := Load(fsys)
	if err != nil {
		return Result{}, err
	}
	retired, err := LoadRetired(fsys)
	if err != nil {
		return Result{}, err
	}
	if err := createDatabase(ctx, cfg); err != nil {
		return Result{}, err
	}
	conn, err := open(cfg, cfg.Database)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	if cfg.Cluster != "" {
		if err := cfg.readCluster(ctx, conn); err != nil {
			return Result{}, err
		}
	}

	applied, err := appliedMigrations(ctx, cfg, conn, ms, retired)
	if err != nil {
		return Result{}, err
	}

	var (
		res      Result
		recreate bool // a superseded file was met: re-create the views from here on
	)
	for _, m := range ms {
		if m.Views {
			if err := applyViews(ctx, cfg, conn, m, applied[m.Version], &res); err != nil {
				return res, err
			}
			continue
		}
		if rs, ok := applied[m.Version]; ok {
			if err := revisit(ctx, cfg, conn, m, rs, &recreate, &res); err != nil {
				return res, err
			}
			continue
		}
		if err := apply(ctx, cfg, conn, m); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m)
	}
	return res, nil
}

// revisit handles a migration already recorded as applied: an error if its file changed
// since, its views re-created when it or an earlier file was superseded (*recreate), and an
// upgraded file recorded again.
func revisit(ctx context.Context, cfg Config, conn driver.Conn, m Migration, rs []row, recreate *bool, res *Result) error {
	state := checkRecorded(m, rs)
	if state == changed {
		return fmt.Errorf("checking migration %s.sql: changed after it was applied (checksum %s, recorded %s); add a new migration instead", m.Name, short(m.Checksum), short(rs[0].checksum))
	}
	*recreate = *recreate || state == upgraded
	if *recreate {
		n, err := recreateViews(ctx, cfg, conn, m)
		if err != nil {
			return err
		}
		if n > 0 {
			cfg.Logger.Info("re-created views", "file", m.Name+".sql", "views", n)
		}
	}
	if state == upgraded {
		if err := record(ctx, conn, cfg.Table, m); err != nil {
			return fmt.Errorf("recording migration %s.sql: %w", m.Name, err)
		}
		res.Upgraded = append(res.Upgraded, m)
	}
	res.Current++
	return nil
}

// applyViews drops and re-creates every view of the views file m, in file order, and records
// it, unless rs (its recorded rows) says the last one recorded has m's checksum.
func applyViews(ctx context.Context, cfg Config, conn driver.Conn, m Migration, rs []row, res *Result) error {
	if lastRecorded(rs) == m.Checksum {
		res.Current++
		return nil
	}
	start := time.Now()
	n, err := recreateViews(ctx, cfg, conn, m)
	if err != nil {
		return err
	}
	if err := record(ctx, conn, cfg.Table, m); err != nil {
		return fmt.Errorf("recording %s: %w", ViewsFile, err)
	}
	res.Applied = append(res.Applied, m)
	cfg.Logger.Info("re-created views", "file", ViewsFile, "views", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// lastRecorded returns the checksum of the last of rs by applied_at, or "" when rs is empty or
// its last second holds several checksums (then the views file is applied again, which is
// harmless).
func lastRecorded(rs []row) string {
	last := ""
	var at time.Time
	for _, r := range rs {
		switch {
		case r.appliedAt.After(at):
			at, last = r.appliedAt, r.checksum
		case r.appliedAt.Equal(at) && r.checksum != last:
			last = ""
		}
	}
	return last
}

// addColumn matches an ALTER TABLE whose actions are all ADD COLUMN.
var addColumn = regexp.MustCompile(`(?is)^(?:\s*--[^\n]*\n)*\s*ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN\s`)

// columnExists reports whether err is ClickHouse's "column with this name already exists"
// (code 44) for an ALTER TABLE … ADD COLUMN statement: ClickHouse 18.16 has no ADD COLUMN IF
// NOT EXISTS, so a file applied half-way before is applied again with the column present,
// which counts as done. Add one column per statement.
func columnExists(stmt string, err error) bool {
	var ex *clickhouse.Exception
	return addColumn.MatchString(stmt) && errors.As(err, &ex) && ex.Code == 44
}

// appliedMigrations creates the record table when missing and returns what it records,
// refusing a recorded version that ms does not have, unless it is retired with a checksum
// the retired table lists.
func appliedMigrations(ctx context.Context, cfg Config, conn driver.Conn, ms []Migration, retired []Retired) (map[int][]row, error) {
	if err := execDDL(ctx, cfg, conn, "CREATE TABLE IF NOT EXISTS "+cfg.Table+` (
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC') DEFAULT now()
) ENGINE = MergeTree ORDER BY version`); err != nil {
		return nil, fmt.Errorf("creating %s.%s: %w", cfg.Database, cfg.Table, err)
	}
	applied, err := recorded(ctx, conn, cfg.Table)
	if err != nil {
		return nil, err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	sums := map[int][]string{}
	for _, r := range retired {
		sums[r.Version] = r.Checksums
	}
	for v, rs := range applied {
		if known[v] {
			continue
		}
		if _, ok := sums[v]; !ok {
			return nil, fmt.Errorf("checking migrations: %s.%s records %s (version %d) but this binary does not have it", cfg.Database, cfg.Table, rs[0].name, v)
		}
		for _, r := range rs {
			if !slices.Contains(sums[v], r.checksum) {
				return nil, fmt.Errorf("checking migrations: %s.%s records the retired %s.sql with checksum %s, which %s does not list", cfg.Database, cfg.Table, r.name, short(r.checksum), RetiredFile)
			}
		}
		delete(applied, v)
	}
	return applied, nil
}

// apply runs every statement of migration m and records it.
func apply(ctx context.Context, cfg Config, conn driver.Conn, m Migration) error {
	start := time.Now()
	stmts := Split(m.SQL)
	for i, s := range stmts {
		if err := execDDL(ctx, cfg, conn, s.SQL); err != nil {
			if columnExists(s.SQL, err) {
				cfg.Logger.Info("column already added (the file was applied half-way before)", "file", m.Name+".sql", "statement", i+1)
				continue
			}
			return fmt.Errorf("applying migration %s.sql, statement %d at line %d (%s): %w", m.Name, i+1, s.Line, s.FirstLine(), err)
		}
	}
	if err := record(ctx, conn, cfg.Table, m); err != nil {
		return fmt.Errorf("recording migration %s.sql: %w", m.Name, err)
	}
	cfg.Logger.Info("applied migration", "file", m.Name+".sql", "statements", len(stmts), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

type recordedState int

const (
	current  recordedState = iota // a recorded checksum is the file's
	upgraded                      // only superseded checksums of the file are recorded
	changed                       // the file changed in a way the table does not accept
)

func checkRecorded(m Migration, rs []row) recordedState {
	state := changed
	for _, r := range rs {
		if r.checksum == m.Checksum {
			return current
		}
		for _, old := range m.Superseded {
			if r.checksum == old {
				state = upgraded
			}
		}
	}
	return state
}

// recreateViews drops and re-creates every plain view of m, in file order, and returns how
// many it re-created.
func recreateViews(ctx context.Context, cfg Config, conn driver.Conn, m Migration) (int, error) {
	n := 0
	for i, s := range Split(m.SQL) {
		v := createView.FindStringSubmatch(s.SQL)
		if v == nil {
			continue
		}
		if err := execDDL(ctx, cfg, conn, "DROP TABLE IF EXISTS "+v[1]); err != nil {
			return n, fmt.Errorf("re-creating the views of %s.sql: dropping view %s (statement %d at line %d): %w", m.Name, v[1], i+1, s.Line, err)
		}
		if err := execDDL(ctx, cfg, conn, s.SQL); err != nil {
			return n, fmt.Errorf("re-creating the views of %s.sql: creating view %s (statement %d at line %d): %w", m.Name, v[1], i+1, s.Line, err)
		}
		n++
	}
	return n, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

func open(cfg Config, database string) (driver.Conn, error) {
	var settings clickhouse.Settings
	if cfg.Cluster != "" {
		// An INSERT … SELECT into a Distributed table is complete when it returns.
		settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Settings:    settings,
		Addr:        []string{cfg.Addr},
		Auth:        clickhouse.Auth{Database: database, Username: cfg.Username, Password: cfg.Password},
		DialTimeout: 10 * time.Second,
		ReadTimeout: cfg.Timeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		TLS:         cfg.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("opening clickhouse %s: %w", cfg.Addr, err)
	}
	return conn, nil
}

func createDatabase(ctx context.Context, cfg Config) error {
	conn, err := open(cfg, "")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := execDDL(ctx, cfg, conn, "CREATE DATABASE IF NOT EXISTS "+cfg.Database); err != nil {
		return fmt.Errorf("creating database %s: %w", cfg.Database, err)
	}
	return nil
}

func exec(ctx context.Context, cfg Config, conn driver.Conn, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	return conn.Exec(ctx, sql)
}

// execDDL runs a migration statement, rewritten with OnCluster when cfg.Cluster is set.
func execDDL(ctx context.Context, cfg Config, conn driver.Conn, sql string) error {
	if cfg.Cluster != "" {
		if isView(sql) {
			return onEveryHost(ctx, cfg, conn, sql)
		}
		if cfg.shards > 1 {
			stmts, err := OnShardedCluster(sql, cfg.Cluster, cfg.Database)
			if err != nil {
				return err
			}
			for _, s := range stmts {
				run := exec
				if s.EveryHost {
					run = onEveryHost
				}
				if err := run(ctx, cfg, conn, s.SQL); err != nil {
					return err
				}
			}
			return nil
		}
		var err error
		if sql, err = OnCluster(sql, cfg.Cluster, cfg.Database); err != nil {
			return err
		}
	}
	return exec(ctx, cfg, conn, sql)
}

// shardCount returns the number of shards of cluster.
func shardCount(ctx context.Context, conn driver.Conn, cluster string) (int, error) {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = ?", cluster).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the shards of cluster %s: %w", cluster, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("cluster %s: no such cluster in system.clusters", cluster)
	}
	return int(n), nil
}

// checkProductMode refuses a sharded cluster whose profile does not set
// distributed_product_mode = 'global': the views and the query pack join and IN-filter
// Distributed tables, which 18.16 refuses by default ('deny') and which are only right when
// the inner side is read whole ('global'; 'local' would join each shard with its own part).
// The setting is a string, which the native protocol cannot send to 18.16 per query, so it
// belongs in the users' profile (deploy/local/cluster.sh sets it).
func checkProductMode(ctx context.Context, conn driver.Conn, cluster string) error {
	var mode string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'distributed_product_mode'").Scan(&mode); err != nil {
		return fmt.Errorf("reading distributed_product_mode: %w", err)
	}
	if mode != "global" {
		return fmt.Errorf("cluster %s has several shards but this user's profile sets distributed_product_mode = '%s': set it to 'global' on every server (users.xml profile) for the views and queries over Distributed tables", cluster, mode)
	}
	return nil
}

// onEveryHost runs a view's DDL on every host of the cluster, each in the migrated database:
// ClickHouse 18.16 runs ON CLUSTER DDL in each host's default database, where a view's
// unqualified tables do not resolve.
func onEveryHost(ctx context.Context, cfg Config, conn driver.Conn, sql string) error {
	rows, err := conn.Query(ctx, "SELECT host_address, toString(port) FROM system.clusters WHERE cluster = ?", cfg.Cluster)
	if err != nil {
		return fmt.Errorf("listing hosts of cluster %s: %w", cfg.Cluster, err)
	}
	var hosts []string
	for rows.Next() {
		var h, p string
		if err := rows.Scan(&h, &p); err != nil {
			rows.Close()
			return fmt.Errorf("listing hosts of cluster %s: %w", cfg.Cluster, err)
		}
		hosts = append(hosts, net.JoinHostPort(h, p))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing hosts of cluster %s: %w", cfg.Cluster, err)
	}
	if len(hosts) == 0 {
		return fmt.Errorf("cluster %s: no such cluster in system.clusters", cfg.Cluster)
	}
	for _, h := range hosts {
		hc := cfg
		hc.Addr = h
		c, err := open(hc, cfg.Database)
		if err != nil {
			return err
		}
		err = exec(ctx, hc, c, sql)
		c.Close()
		if err != nil && !columnExists(sql, err) { // a host done before a failure on another
			return fmt.Errorf("on %s: %w", h, err)
		}
	}
	return nil
}

type row struct {
	name      string
	checksum  string
	appliedAt time.Time
}

// recorded returns every recorded row per version (an upgraded file has one per checksum).
func recorded(ctx context.Context, conn driver.Conn, table string) (map[int][]row, error) {
	rows, err := conn.Query(ctx, "SELECT version, name, checksum, applied_at FROM "+table+" ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	defer rows.Close()
	out := map[int][]row{}
	for rows.Next() {
		var (
			v uint32
			r row
		)
		if err := rows.Scan(&v, &r.name, &r.checksum, &r.appliedAt); err != nil {
			return nil, fmt.Errorf("reading %s: %w", table, err)
		}
		out[int(v)] = append(out[int(v)], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	return out, nil
}

func record(ctx context.Context, conn driver.Conn, table string, m Migration) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" (version, name, checksum)")
	if err != nil {
		return err
	}
	if err := b.Append(uint32(m.Version), m.Name, m.Checksum); err != nil {
		_ = b.Abort()
		return err
	}
	return b.Send()
}

// readCluster learns the cluster's shard count and checks a sharded cluster's
// distributed_product_mode.
func (c *Config) readCluster(ctx context.Context, conn driver.Conn) error {
	var err error
	if c.shards, err = shardCount(ctx, conn, c.Cluster); err != nil {
		return err
	}
	if c.shards > 1 {
		if err := checkProductMode(ctx, conn, c.Cluster); err != nil {
			return err
		}
	}
	c.Logger.Info("migrating a cluster", "cluster", c.Cluster, "shards", c.shards)
	return nil
}
