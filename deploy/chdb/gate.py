"""The current-ClickHouse gate: the project's SQL on ClickHouse 26.x (chdb, in process)
gives the same answers as on ClickHouse 18.16.

Usage: gate.py BUNDLE_DIR

BUNDLE_DIR is written by consumers/tools/query's TestQueryPackMatchesReference with
TASKOLE_SQL_GATE_DIR set (deploy/chdb/gate.sh does both). It holds, from the 18.16 run:
every migration statement as consumers/runners/migrate splits it, every data table exported in
Native format, and every query of the pack x every grouping (and a filtered run per filter
parameter) as `taskole query` renders it, with 18.16's answer.

The gate, in a fresh chdb session:
  1. applies every migration statement in order (a failure names the file and line);
  2. loads the exported tables (materialized views fill their targets as on 18.16) and
     checks the row counts;
  3. runs every query twice, as rendered with literals (what `taskole query` sends) and as
     the file's own SQL with {name:Type} parameters bound natively (what clickhouse-client
     --param_name does on a current server), and compares each answer with 18.16's: the
     same column names and types, the same rows in the same order, byte for byte.
Every joined subquery without an alias is reported with its file and line (ClickHouse 26.x
refuses them: ALIAS_REQUIRED). Exit status 0 only when everything matched.
"""

import decimal
import json
import os
import sys
import tempfile
import time

os.environ["TZ"] = "UTC"  # a UTC server, like the project's; DateTime parameters are UTC

import chdb  # noqa: E402
from chdb import session as chs  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aliascheck import selftest, unaliased_joined_subqueries  # noqa: E402

FMT = "TabSeparatedWithNamesAndTypes"
DB = "gate"


def first_line(sql):
    return sql.strip().split("\n", 1)[0].strip()


def short(err, n=400):
    s = " ".join(str(err).split())
    return s if len(s) <= n else s[:n] + " ..."


def cells(answer):
    """Splits a TSVWithNamesAndTypes answer into names, types and rows of cells."""
    lines = answer.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    split = [l.split("\t") for l in lines]
    return (split[0] if split else []), (split[1] if len(split) > 1 else []), split[2:]


def same_cell(typ, w, g):
    """A cell is the same when its text is; a Decimal when its value is (26.x prints
    Decimal(18, 4) 502.0700 as 502.07: output_format_decimal_trailing_zeros is off since
    21.x, and the value a client reads is the same)."""
    if w == g:
        return True
    if "Decimal" in typ and w != "\\N" and g != "\\N":
        try:
            return decimal.Decimal(w) == decimal.Decimal(g)
        except decimal.InvalidOperation:
            return False
    return False


def same(want, got):
    wn, wt, wr = cells(want)
    gn, gt, gr = cells(got)
    if wn != gn or wt != gt or len(wr) != len(gr):
        return False
    for a, b in zip(wr, gr):
        if len(a) != len(b):
            return False
        for typ, x, y in zip(wt, a, b):
            if not same_cell(typ, x, y):
                return False
    return True


def diff(want, got, limit=5):
    """Describes how two TSVWithNamesAndTypes answers differ."""
    w, g = want.split("\n"), got.split("\n")
    out = []
    if w[:1] != g[:1]:
        out.append("columns: 18.16 %s, 26.x %s" % (w[0], g[0]))
    if w[1:2] != g[1:2]:
        out.append("types: 18.16 %s, 26.x %s" % (w[1] if len(w) > 1 else "", g[1] if len(g) > 1 else ""))
    if len(w) != len(g):
        out.append("rows: 18.16 %d, 26.x %d" % (len(w) - 3, len(g) - 3))
    shown = 0
    types = w[1].split("\t") if len(w) > 1 else []
    for i in range(2, min(len(w), len(g))):
        a, b = w[i].split("\t"), g[i].split("\t")
        if len(a) != len(b) or not all(same_cell(t, x, y) for t, x, y in zip(types, a, b)):
            out.append("row %d: 18.16 %s" % (i - 1, w[i][:300]))
            out.append("row %d: 26.x  %s" % (i - 1, g[i][:300]))
            shown += 1
            if shown >= limit:
                break
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    selftest()
    bundle = os.path.abspath(argv[1])
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="chdb-gate-")
    s = chs.Session(work)
    version = s.query("SELECT version()", "TSV").bytes().decode().strip()
    s.query("CREATE DATABASE IF NOT EXISTS %s" % DB)
    s.query("USE %s" % DB)
    failed, passed = [], 0

    def fail(where, msg, details=()):
        failed.append(where)
        print("FAIL %s: %s" % (where, msg))
        for d in details:
            print("     " + d)

    # Joined subqueries without an alias, by file and line, before running anything.
    seen = set()
    for st in m["statements"]:
        for line in unaliased_joined_subqueries(st["sql"], st["line"]):
            fail("%s:%d" % (st["file"], line), "joined subquery without an alias (ClickHouse 26.x: ALIAS_REQUIRED)")
    for c in m["cases"]:
        if c["file"] in seen:
            continue
        seen.add(c["file"])
        for line in unaliased_joined_subqueries(c["template"]):
            fail("%s:%d" % (c["file"], line), "joined subquery without an alias (ClickHouse 26.x: ALIAS_REQUIRED)")

    # 1. Migrations.
    for i, st in enumerate(m["statements"]):
        where = "%s:%d" % (st["file"], st["line"])
        try:
            s.query(st["sql"])
            passed += 1
        except Exception as e:  # chdb raises its own error types
            fail(where, "statement %d (%s): %s" % (i + 1, first_line(st["sql"]), short(e)))

    # 2. Data.
    rows = 0
    for tb in m["tables"]:
        where = "table %s" % tb["name"]
        if tb["rows"] == 0:
            continue
        cols = ", ".join(tb["columns"])
        path = os.path.join(bundle, tb["file"]).replace("'", "\\'")
        try:
            s.query("INSERT INTO %s (%s) SELECT %s FROM file('%s', 'Native')" % (tb["name"], cols, cols, path))
            n = int(s.query("SELECT count() FROM %s" % tb["name"], "TSV").bytes().decode())
        except Exception as e:
            fail(where, "loading: %s" % short(e))
            continue
        if n != tb["rows"]:
            fail(where, "loaded %d rows, 18.16 has %d" % (n, tb["rows"]))
        rows += n
    t_load = time.monotonic() - t0

    # 3. Queries.
    runs = 0
    for c in m["cases"]:
        with open(os.path.join(bundle, c["answer"])) as f:
            want = f.read()
        label = ",".join("%s=%s" % kv for kv in sorted(c["params"].items()) if kv[1] != "")
        if c.get("note"):
            print("note %s: %s" % (c["file"], c["note"]))
        for mode, sql, params in (("rendered", c["rendered"], None), ("params", c["template"], c["params"])):
            where = "%s:%d [%s] (%s)" % (c["file"], c["line"], label, mode)
            runs += 1
            try:
                got = s.query(sql, FMT, params=params).bytes().decode()
            except Exception as e:
                fail(where, short(e))
                continue
            if not same(want, got):
                fail(where, "answer differs from 18.16's", diff(want, got))
            else:
                passed += 1
    took = time.monotonic() - t0
    s.close()
    print("chdb gate: ClickHouse %s (chdb %s) vs %s: %d migration statements, %d tables (%d rows, loaded in %.1fs), "
          "%d query runs of %d cases; %.1fs" % (version, chdb.__version__, m["server"], len(m["statements"]),
                                               len(m["tables"]), rows, t_load, runs, len(m["cases"]), took))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
