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
