"""Finds joined subqueries without an alias in ClickHouse SQL (ALIAS_REQUIRED on 26.x)."""

import re

_TOKEN = re.compile(
    r"--[^\n]*|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`|[A-Za-z_][A-Za-z0-9_]*|\S",
    re.S,
)
_JOIN_WORDS = {"ANY", "ALL", "LEFT", "RIGHT", "INNER", "FULL", "CROSS", "GLOBAL", "JOIN",
               "SEMI", "ANTI", "ASOF", "OUTER", "PASTE"}
_NOT_ALIAS = _JOIN_WORDS | {"USING", "ON", "WHERE", "PREWHERE", "GROUP", "ORDER", "LIMIT",
                            "HAVING", "UNION", "ARRAY", "SETTINGS", "FORMAT", "FINAL", "SAMPLE",
                            "WITH", "INTO", "LEFT", "EXCEPT", "INTERSECT", "WINDOW", "QUALIFY"}


def _tokens(sql):
    line = 1
    pos = 0
    out = []
    for m in _TOKEN.finditer(sql):
        line += sql.count("\n", pos, m.start())
        pos = m.start()
        tok = m.group(0)
        if not tok.startswith("--"):
            out.append((tok, line))
    return out


def unaliased_joined_subqueries(sql, first_line=1):
    """Returns the 1-based lines (offset by first_line - 1) of every subquery that is an
    operand of a JOIN and has no alias."""
    toks = _tokens(sql)
    up = [t.upper() for t, _ in toks]
    match = {}
    stack = []
    for i, t in enumerate(up):
        if t == "(":
            stack.append(i)
        elif t == ")" and stack:
            match[stack.pop()] = i
    found = []
    for i, t in enumerate(up):
        if t != "(" or i + 1 >= len(up) or up[i + 1] not in ("SELECT", "WITH") or i not in match:
            continue
        prev = up[i - 1] if i > 0 else ""
        j = match[i] + 1
        nxt = up[j] if j < len(up) else ""
        aliased = nxt == "AS" or (re.fullmatch(r"[A-Z_][A-Z0-9_]*", nxt or "-") and nxt not in _NOT_ALIAS)
        if aliased:
            continue
        after = up[j + 1] if j + 1 < len(up) else ""
        if nxt in ("LEFT", "INNER") and after == "ARRAY":  # ARRAY JOIN joins no table
            continue
        if prev == "JOIN" or (prev == "FROM" and nxt in _JOIN_WORDS):
            found.append(toks[i][1] + first_line - 1)
    return found


# (sql, lines the checker must report): run by gate.py before every gate, so a checker that
# stopped finding anything fails the gate instead of passing it.
SELFTEST = [
    ("SELECT * FROM (SELECT 1 AS a) ANY LEFT JOIN (SELECT 1 AS a) USING a", [1, 1]),
    ("SELECT * FROM (SELECT 1 AS a) AS l\nANY LEFT JOIN\n(SELECT 1 AS a) USING a", [3]),
    ("SELECT * FROM (SELECT 1 AS a) l JOIN (SELECT 1 AS a) r USING a", []),
    ("SELECT * FROM (SELECT [1] AS a) LEFT ARRAY JOIN a", []),
    ("SELECT * FROM (SELECT [1] AS a) ARRAY JOIN a", []),
    ("SELECT x IN (SELECT 1) FROM (SELECT 1 AS x)", []),
    ("SELECT '(SELECT' FROM t -- JOIN (SELECT\n", []),
]


def selftest():
    for sql, want in SELFTEST:
        got = unaliased_joined_subqueries(sql)
        if got != want:
            raise AssertionError("aliascheck on %r found lines %s, want %s" % (sql, got, want))
