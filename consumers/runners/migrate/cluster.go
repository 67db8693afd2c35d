package migrate

import (
	"fmt"
	"regexp"
	"strings"
)

// The DDL heads that take ON CLUSTER, with the object name they act on.
var ddlHead = regexp.MustCompile(`(?is)^((?:\s*--[^\n]*\n)*\s*)(CREATE\s+(?:MATERIALIZED\s+VIEW|VIEW|TABLE|DATABASE)\s+(?:IF\s+NOT\s+EXISTS\s+)?|DROP\s+(?:TABLE|VIEW|DATABASE)\s+(?:IF\s+EXISTS\s+)?|ALTER\s+TABLE\s+|RENAME\s+TABLE\s+)([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)`)

// A MergeTree-family engine with its optional arguments (no nested parentheses in ours).
var mergeTree = regexp.MustCompile(`(?i)ENGINE\s*=\s*(Replacing|Aggregating|Summing|Collapsing|VersionedCollapsing|Graphite)?MergeTree\b(?:\s*\(([^()]*)\))?`)

var viewHead = regexp.MustCompile(`(?is)^(?:\s*--[^\n]*\n)*\s*CREATE\s+(?:MATERIALIZED\s+)?VIEW\b`)

// isView reports whether stmt creates a view (run on every host, not ON CLUSTER).
func isView(stmt string) bool { return viewHead.MatchString(stmt) }

// OnCluster rewrites one migration statement for a replicated cluster: DDL gets
// `ON CLUSTER cluster` (and the table its database, since the DDL runs on every host in the
// host's default database otherwise), and a *MergeTree engine becomes its Replicated*
// variant with the ZooKeeper path /clickhouse/tables/{shard}/<database>/<table> and replica
// {replica} (macros every server of the cluster defines). Other statements (INSERT … SELECT)
// run once: a replicated table copies the inserted parts to the other replicas itself.
func OnCluster(stmt, cluster, database string) (string, error) {
	m := ddlHead.FindStringSubmatchIndex(stmt)
	if m == nil {
		return stmt, nil
	}
	head := strings.ToUpper(strings.Join(strings.Fields(stmt[m[4]:m[5]]), " "))
	name := stmt[m[6]:m[7]]
	qualified := name
	if !strings.HasPrefix(head, "CREATE DATABASE") && !strings.HasPrefix(head, "DROP DATABASE") && !strings.Contains(name, ".") {
		qualified = database + "." + name
	}
	if strings.HasPrefix(head, "RENAME") {
		return "", fmt.Errorf("rewriting %q for a cluster: RENAME TABLE is not supported, write the migration without it", head)
	}
	out := stmt[:m[4]] + stmt[m[4]:m[6]] + qualified + " ON CLUSTER " + cluster + stmt[m[7]:]
	if !strings.HasPrefix(head, "CREATE TABLE") {
		return out, nil
	}
	table := qualified[strings.LastIndex(qualified, ".")+1:]
	db := qualified[:strings.LastIndex(qualified, ".")]
	n := 0
	out = mergeTree.ReplaceAllStringFunc(out, func(e string) string {
		n++
		sm := mergeTree.FindStringSubmatch(e)
		args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", db, table)
		if a := strings.TrimSpace(sm[2]); a != "" {
			args += ", " + a
		}
		return fmt.Sprintf("ENGINE = Replicated%sMergeTree(%s)", sm[1], args)
	})
	if n > 1 {
		return "", fmt.Errorf("rewriting CREATE TABLE %s for a cluster: %d engines", name, n)
	}
	return out, nil
}

// LocalSuffix names the shard-local table behind each Distributed table of a sharded cluster.
const LocalSuffix = "_local"

var (
	orderBy    = regexp.MustCompile(`(?is)\bORDER\s+BY\s+(\([^()]*\)|[A-Za-z_][A-Za-z0-9_]*)`)
	kafkaCoord = regexp.MustCompile(`(?m)^\s*_topic\s+String\b[\s\S]*^\s*_partition\s+UInt32\b`)
	columnDDL  = regexp.MustCompile(`(?i)^\s*(ADD|DROP|MODIFY|COMMENT|CLEAR)\s+COLUMN\b`)
)

// OnShardedCluster rewrites one migration statement for a cluster of several shards. A
// MergeTree table T becomes two, both ON CLUSTER: T_local, the Replicated table of OnCluster
// on every host (its shard's replicas share a ZooKeeper path through the {shard} macro), and
// T itself, a Distributed table over T_local with the columns of T_local. Everything that
// names T — views, materialized views, the query pack, the sink's inserts — reads and writes
// the whole cluster through it, so the migrations and the SQL stay single-source.
//
// The sharding key (ShardingKey) puts every Kafka partition of a raw table wholly on one
// shard and every sorting key of another table on one shard. DROP TABLE drops both tables,
// a column ALTER changes both (local first, the Distributed table on every host: see
// ShardedStatement), any other ALTER the local table only. Other statements are those of OnCluster.
func OnShardedCluster(stmt, cluster, database string) ([]ShardedStatement, error) {
	m := ddlHead.FindStringSubmatchIndex(stmt)
	if m == nil {
		return []ShardedStatement{{SQL: stmt}}, nil
	}
	head := strings.ToUpper(strings.Join(strings.Fields(stmt[m[4]:m[5]]), " "))
	name := stmt[m[6]:m[7]]
	db, table := database, name
	if i := strings.LastIndex(name, "."); i >= 0 {
		db, table = name[:i], name[i+1:]
	}
	local := stmt[:m[6]] + db + "." + table + LocalSuffix + stmt[m[7]:]
	switch {
	case strings.HasPrefix(head, "CREATE TABLE") && mergeTree.MatchString(stmt):
		key, err := ShardingKey(stmt)
		if err != nil {
			return nil, fmt.Errorf("sharding table %s: %w", name, err)
		}
		l, err := OnCluster(local, cluster, db)
		if err != nil {
			return nil, err
		}
		d := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s%s ENGINE = Distributed(%s, %s, %s%s, %s)",
			db, table, cluster, db, table, LocalSuffix, cluster, db, table, LocalSuffix, key)
		return []ShardedStatement{{SQL: l}, {SQL: d}}, nil
	case strings.HasPrefix(head, "DROP TABLE"):
		d, err := OnCluster(stmt, cluster, database)
		if err != nil {
			return nil, err
		}
		return []ShardedStatement{{SQL: d}, {SQL: fmt.Sprintf("DROP TABLE IF EXISTS %s.%s%s ON CLUSTER %s", db, table, LocalSuffix, cluster)}}, nil
	case strings.HasPrefix(head, "ALTER TABLE"):
		l, err := OnCluster(local, cluster, db)
		if err != nil {
			return nil, err
		}
		if !columnDDL.MatchString(stmt[m[7]:]) {
			return []ShardedStatement{{SQL: l}}, nil
		}
		d := stmt[:m[6]] + db + "." + table + stmt[m[7]:]
		return []ShardedStatement{{SQL: l}, {SQL: d, EveryHost: true}}, nil
	}
	s, err := OnCluster(stmt, cluster, database)
	if err != nil {
		return nil, err
	}
	return []ShardedStatement{{SQL: s}}, nil
}

// ShardedStatement is one statement of a migration rewritten for a sharded cluster.
type ShardedStatement struct {
	SQL string
	// EveryHost: run SQL on every host of the cluster, one after the other, not ON CLUSTER.
	// ClickHouse 18.16 refuses ALTER … ON CLUSTER of a table that is not replicated (the
	// Distributed tables) on a cluster whose shards replicate internally
	// (INCONSISTENT_CLUSTER_DEFINITION, 371), so a column ALTER of a Distributed table is
	// sent to each host itself.
	EveryHost bool
}

// ShardingKey returns the Distributed sharding key of a CREATE TABLE statement:
// cityHash64(_topic, _partition) for a raw table (one with the sink's Kafka coordinates), so
// each Kafka partition is on one shard and the sink's per-partition high-water marks and
// atomic-per-shard inserts keep its exactly-once argument; otherwise cityHash64 of the
// sorting key, so all versions of a key meet on one shard, where Replacing/Aggregating merges
// see them.
func ShardingKey(createTable string) (string, error) {
	if kafkaCoord.MatchString(createTable) {
		return "cityHash64(_topic, _partition)", nil
	}
	m := orderBy.FindStringSubmatch(createTable)
	if m == nil {
		return "", fmt.Errorf("no ORDER BY columns to shard by")
	}
	cols := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m[1], "("), ")"))
	if cols == "" || strings.EqualFold(m[1], "tuple") {
		return "", fmt.Errorf("no ORDER BY columns to shard by")
	}
	return "cityHash64(" + strings.Join(strings.Fields(cols), " ") + ")", nil
}
