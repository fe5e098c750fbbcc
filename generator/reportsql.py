"""`policy report` as SQL, run by DuckDB (embedded): the same figures as report.summarize, from
JSON lines, rotated and gzip-compressed files included, read in parallel by the database.

The SQL is published (`policy report --sql`) so that a cluster engine (Trino, Spark SQL, DuckDB
itself on object storage) can run it over a fleet's logs: it needs only a table ``raw(line)`` of
log lines (the text of each line) and DuckDB's JSON functions or their equivalents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

# Lines that are not events are counted by reason, with the same words as runtime/events.py.
# One pass over the lines, one JSON parse per line: json_extract takes every field at once, as
# JSON text; each field's type is read from its first character (json_extract writes JSON
# without leading space: '"' text, '{' object, '[' list, true/false), and text is unquoted by
# slicing when it holds no escape (json ->> '$' otherwise). Parsing a line again for each field
# (json_type, ->>) made this five times slower. CASE evaluates a branch only for the rows that
# reach it, so the costly checks (trim, ltrim: copies of the line) run only on lines that fail.
LINES_SELECT = """
SELECT filename, skip, substr(ts, 1, 10) AS day, min(ts) AS first_ts, max(ts) AS last_ts, allowed, rule, ctype,
       service, reasons, count(*) AS n
FROM (
SELECT filename,
  CASE WHEN e IS NULL THEN CASE WHEN coalesce(trim(line), '') = '' THEN 'blank' ELSE 'not JSON' END
       WHEN NOT CASE WHEN left(line, 1) = '{' THEN true ELSE starts_with(ltrim(line), '{') END
         THEN 'not a JSON object'
       WHEN coalesce(left(e[1], 1), '') <> '"' OR length(ts) < 10 THEN 'no timestamp as text'
       WHEN coalesce(left(e[2], 1), '') <> '{' THEN 'no result object'
       WHEN coalesce(e[3], '') NOT IN ('true', 'false') THEN 'result.allowed is not true or false'
  END AS skip,
  ts,
  e[3] = 'true' AS allowed,
  CASE WHEN left(e[4], 1) = '"' AND e[4] <> '""' THEN unquoted(e[4]) ELSE '(unknown rule)' END AS rule,
  CASE WHEN left(e[5], 1) = '"' THEN unquoted(e[5]) ELSE '(none)' END AS ctype,
  CASE WHEN left(e[6], 1) = '"' THEN unquoted(e[6]) END AS service,
  CASE WHEN left(e[7], 1) = '[' THEN e[7] END AS reasons
FROM (
  SELECT filename, line, e, CASE WHEN left(e[1], 1) = '"' THEN unquoted(e[1]) END AS ts
  FROM (SELECT filename, line,
          TRY(json_extract(line, ['$.timestamp', '$.result', '$.result.allowed', '$.result.rule',
                                  '$.input.customer.type', '$.labels.service', '$.result.reasons']))::VARCHAR[] AS e
        FROM raw)))
GROUP BY ALL
HAVING skip IS DISTINCT FROM 'blank'  -- blank lines are no lines (trim, a copy, runs only on lines that fail)
"""
LINES = "CREATE TEMP TABLE lines AS" + LINES_SELECT

# The fast path (the embedded engine only): DuckDB's JSON reader parses each line straight into
# the few fields the report needs, each kept as JSON text (so that a number where text belongs
# stays a number; the reader writes the text back with escapes only where JSON needs them), and
# the rows are grouped as they are read. A row is "ok" when it is surely an event the
# line-by-line report would count: result.allowed true or false, and a timestamp as text of 10
# characters or more with no backslash, space or "!" (its JSON text is then the text between two
# quotes, and sorts as the text does: the closing quote sorts before every character left; the
# day is its first 10 characters). A file with any other row (not JSON, not an object, a
# timestamp that is no text...) is read again, line by line, by LINES, which says why each line
# is not an event. The reader gives one row per line that is not blank, all NULL when the line
# is not a JSON object. labels.service is read only when the report is filtered by service: each
# object the reader descends into costs (15% of the whole report, 10,000,000 events).
#
# Two forms of it. FAST_WHOLE takes `result` whole, as JSON text, and groups by it: a fleet's
# results repeat a few shapes (one per rule, outcome and bundle revision), so result.allowed,
# .rule and .reasons are taken out of each distinct result, not out of each line, and the reader
# does not descend into every result (it matches each key of each object it descends into
# against the fields asked for: not descending makes the report 10% faster at 10,000,000
# events). When results do not repeat (a writer that puts something of its own in each), grouping
# by them would hold every result in memory (3.6x slower at 3,000,000 events, 1 GB): FAST_FIELDS,
# which asks the reader for the three fields, is used instead. Which one is decided on a sample
# of the first lines (results_repeat).
_FAST = """
CREATE TEMP TABLE fast AS
SELECT filename, ok AND coalesce(allowed IN ('true', 'false'), false) AS ok, day, min(first_ts) AS first_ts,
       max(last_ts) AS last_ts, allowed, rule, ctype, service, reasons, sum(n) AS n
FROM (
  SELECT filename, ok, substr(ts, 2, 10) AS day, min(ts) AS first_ts, max(ts) AS last_ts, {group}, ctype, service,
         count(*) AS n
  FROM (
    SELECT filename, timestamp AS ts, {result}, input.customer.type AS ctype, {{service}} AS service,
           coalesce(left(timestamp, 1) = '"' AND length(timestamp) >= 12 AND NOT contains(timestamp, '\\\\')
                    AND NOT contains(timestamp, ' ') AND NOT contains(timestamp, '!'), false) AS ok
    FROM events)
  GROUP BY ALL){fields}
GROUP BY ALL
"""
FAST_WHOLE = _FAST.format(
    group="result", result="result",
    fields=",\n  LATERAL (SELECT e[1] AS allowed, e[2] AS rule, e[3] AS reasons FROM (SELECT TRY(json_extract("
           "result, ['$.allowed', '$.rule', '$.reasons']))::VARCHAR[] AS e))")
FAST_FIELDS = _FAST.format(
    group="allowed, rule, reasons",
    result="result.allowed AS allowed, result.rule AS rule, result.reasons AS reasons", fields="")

# Each field the report reads, as JSON text (see _FAST); labels only to filter by service.
FIELDS = {"whole": "{'timestamp': 'JSON', 'result': 'JSON', 'input': 'STRUCT(customer STRUCT(type JSON))'%s}",
          "fields": "{'timestamp': 'JSON', 'result': 'STRUCT(allowed JSON, rule JSON, reasons JSON)', "
                    "'input': 'STRUCT(customer STRUCT(type JSON))'%s}"}
LABELS = ", 'labels': 'STRUCT(service JSON)'"

# results_repeat: the first SAMPLE lines decide; results repeat when at most REPEATING of them are
# distinct (one in 20, and at least 100; the benchmark's real events: 45 distinct in 10,000; 5,000
# lines take 8 ms). Results that stop repeating after the sample still give the right figures, in
# DuckDB's memory limit (it spills to disk past it), only more slowly.
SAMPLE = 5_000
REPEATING = 0.05

# The ok rows of the files read by the fast path, in the form of LINES' rows.
FAST_LINES = """
SELECT filename, NULL::VARCHAR AS skip, day, first_ts[2:-2] AS first_ts, last_ts[2:-2] AS last_ts,
  allowed = 'true' AS allowed,
  CASE WHEN left(rule, 1) = '"' AND rule <> '""' THEN unquoted(rule) ELSE '(unknown rule)' END AS rule,
  CASE WHEN left(ctype, 1) = '"' THEN unquoted(ctype) ELSE '(none)' END AS ctype,
  CASE WHEN left(service, 1) = '"' THEN unquoted(service) END AS service,
  CASE WHEN left(reasons, 1) = '[' THEN reasons END AS reasons, n
FROM fast WHERE ok AND filename NOT IN (SELECT filename FROM fast WHERE NOT ok)
"""

# Lines the JSON reader saw (one row each) but the line-by-line reader did not (it drops a line that
# is not UTF-8): counted as the line-by-line report counts them.
UNREADABLE = """
INSERT INTO lines (filename, skip, n)
SELECT filename, 'not JSON', seen - coalesce(kept, 0)
FROM (SELECT filename, sum(n) AS seen FROM fast GROUP BY filename)
LEFT JOIN (SELECT filename, sum(n) AS kept FROM lines GROUP BY filename) USING (filename)
WHERE seen > coalesce(kept, 0)
"""


# JSON text of a string -> the string: sliced when it has no escape, parsed when it has one.
UNQUOTED = "CREATE TEMP MACRO unquoted(x) AS CASE WHEN contains(x, '\\') THEN x::JSON ->> '$' ELSE x[2:-2] END"

CHOSEN = """
CREATE TEMP VIEW chosen AS SELECT * FROM lines
WHERE skip IS NULL
  AND ($since IS NULL OR day >= $since)
  AND ($until IS NULL OR day <= $until)
  AND ($service IS NULL OR service = $service);
CREATE TEMP VIEW reasons AS
SELECT rule, ctype, allowed, n,
  CASE WHEN json_type(r, '$.code') = 'VARCHAR' THEN r ->> '$.code' ELSE '?' END AS code,
  CASE WHEN json_type(r, '$.exception') = 'VARCHAR' AND (r ->> '$.exception') <> '' THEN r ->> '$.exception' END AS exc
FROM (SELECT rule, ctype, allowed, n, unnest(json_extract(reasons, '$[*]')) AS r FROM chosen WHERE reasons IS NOT NULL)
WHERE json_type(r) = 'OBJECT'
"""

# "lines" holds one row per distinct kind of line with its count (n), not one per line: a month
# of a fleet's logs repeats a few shapes, so the table stays small whatever the size of the logs.
QUERIES = {
    "skipped": "SELECT skip, sum(n)::BIGINT FROM lines WHERE skip IS NOT NULL GROUP BY skip",
    "per_file": "SELECT filename, coalesce(sum(n) FILTER (WHERE skip IS NULL), 0)::BIGINT FROM lines GROUP BY filename",
    "totals": "SELECT coalesce(sum(n), 0)::BIGINT, min(first_ts), max(last_ts) FROM chosen",
    "rules": "SELECT rule, ctype, allowed, sum(n)::BIGINT FROM chosen GROUP BY ALL",
    "rule_reasons": "SELECT rule, code, sum(n)::BIGINT FROM reasons GROUP BY ALL",
    "exceptions": "SELECT exc, ctype, code, sum(n)::BIGINT FROM reasons "
                  "WHERE exc IS NOT NULL AND ($exception IS NULL OR exc = $exception) GROUP BY ALL",
    "days": "SELECT day, allowed, sum(n)::BIGINT FROM chosen GROUP BY ALL",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _names(files: list[str]) -> str:
    return "[" + ", ".join(map(_literal, files)) + "]"


def _lines_of(files: list[str], compression: str = "auto") -> str:
    return (f"SELECT filename, line FROM read_csv({_names(files)}, "
            "columns={'line': 'VARCHAR'}, delim='\x01', quote='', escape='', header=false, auto_detect=false, "
            f"filename=true, compression='{compression}', null_padding=true, strict_mode=false, ignore_errors=true, "
            "max_line_size=16777216, buffer_size=33554432)")  # lines up to 16 MB, as the JSON reader


def _events_of(files: list[str], compression: str, labels: bool, form: str = "whole") -> str:
    columns = FIELDS[form] % (LABELS if labels else "")
    return (f"SELECT * FROM read_ndjson({_names(files)}, columns={columns}, format='newline_delimited', "
            f"ignore_errors=true, filename=true, compression='{compression}')")


def results_repeat(con: Any, groups: Iterable[tuple[str, list[str]]]) -> bool:
    """Do the logs' results repeat (see _FAST)? Judged on the first SAMPLE lines of the files."""
    events = " UNION ALL ".join(_events_of(group, kind, False) for kind, group in groups)
    seen, distinct = con.execute(f"SELECT count(*), count(DISTINCT result) FROM (SELECT result FROM ({events}) "
                                 f"LIMIT {SAMPLE})").fetchone()
    return bool(distinct <= max(100, seen * REPEATING))


def _by_compression(files: list[str]) -> dict[str, list[str]]:
    """The files by how they are stored, from their first bytes, not their names: a rotated log
    may be gzip-compressed without a .gz suffix (as `policy report --engine python` reads it)."""
    from .report import is_gzip

    found: dict[str, list[str]] = {}
    for name in files:
        found.setdefault("gzip" if is_gzip(name) else "none", []).append(name)
    return found


def _raw_view(files: list[str], con: Any = None) -> str:
    """raw(filename, line): the lines of JSON-lines files (plain, rotated, gzip), and for Parquet
    files (*.parquet) one line per row: the column `line` when the file keeps the lines as text
    (the exact form: `COPY (SELECT line FROM ...) TO 'x.parquet'`), else the row itself as JSON
    (events written as columns, e.g. by `COPY (FROM read_json('decisions.jsonl')) TO ...`)."""
    texts = [f for f in files if not f.endswith(".parquet")]
    if con is None:  # the published form
        parts = [_lines_of(texts)] if texts else []
    else:
        parts = [_lines_of(group, kind) for kind, group in _by_compression(texts).items()]
    for name in files:
        if not name.endswith(".parquet"):
            continue
        columns = {row[0]: row[1] for row in con.execute(
            f"SELECT name, type FROM parquet_schema({_literal(name)}) WHERE name <> 'duckdb_schema'").fetchall()} \
            if con is not None else {}
        if columns.get("line") == "BYTE_ARRAY" and len(columns) == 1:
            parts.append(f"SELECT {_literal(name)} AS filename, line FROM read_parquet({_literal(name)})")
        else:
            parts.append(f"SELECT {_literal(name)} AS filename, to_json(t)::VARCHAR AS line "
                         f"FROM read_parquet({_literal(name)}) t")
    return "CREATE TEMP VIEW raw AS " + " UNION ALL ".join(parts)


def sql_text() -> str:
    """The report's SQL, for `policy report --sql`: one WITH block, then each query."""
    head = ("-- policy report: the decision-log report as SQL (DuckDB dialect).\n"
            "-- Give it a table raw(filename, line): one row per line of the logs, e.g. in DuckDB:\n"
            "--   " + _raw_view(["logs/decisions.jsonl*"]) + ";\n"
            "-- Parameters: $since, $until (YYYY-MM-DD or NULL), $service, $exception (text or NULL).\n\n")
    return (head + UNQUOTED + ";\n" + LINES.strip() + ";\n" + CHOSEN.strip() + ";\n\n"
            + "\n".join(f"-- {name}\n{query};" for name, query in QUERIES.items()) + "\n")


def summarize_sql(paths: Iterable[Path], since: str | None = None, until: str | None = None,
                  service: str | None = None, exception: str | None = None,
                  plan: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The report (report.summarize's shape, plus per day), computed by DuckDB. ``plan``, when
    given, is filled with the files read by the typed fast path ("fast") and line by line
    ("lines"), and the fast path's form ("results": ["whole"] or ["fields"], see _FAST)."""
    import duckdb

    from .report import NotALog, Tally

    files = [str(p) for p in paths]
    unreadable = (duckdb.IOException, duckdb.InvalidInputException, duckdb.OutOfMemoryException,
                  duckdb.ConversionException)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET memory_limit = '1GB'")  # DuckDB spills to disk past this: a month of logs fits any laptop
    con.execute("SET preserve_insertion_order = false")
    con.execute(UNQUOTED)
    texts = [f for f in files if not f.endswith(".parquet")]
    slow = [f for f in files if f.endswith(".parquet")]
    fast = False
    if texts:
        groups = _by_compression(texts).items()
        try:
            form = "whole" if results_repeat(con, groups) else "fields"
            con.execute("CREATE TEMP VIEW events AS " + " UNION ALL ".join(
                _events_of(group, kind, service is not None, form) for kind, group in groups))
            fast_sql = FAST_WHOLE if form == "whole" else FAST_FIELDS
            con.execute(fast_sql.format(service="labels.service" if service is not None else "NULL::JSON"))
            fast = True
            if plan is not None:
                plan["results"] = [form]
        except unreadable:  # what the JSON reader cannot take is read line by line
            slow = files
    if fast:
        clean = dict(con.execute("SELECT filename, bool_and(ok) FROM fast GROUP BY filename").fetchall())
        slow += [f for f in texts if not clean.get(f)]  # a row that is not surely an event, or no row at all
    parts = [FAST_LINES] if fast else []
    if slow:
        try:
            con.execute(_raw_view(slow, con))
        except duckdb.Error as error:  # a .parquet file that is not Parquet, or unreadable
            raise NotALog(f"cannot read the logs as decision logs: {str(error).splitlines()[0]}") from None
        parts.append(LINES_SELECT)
    if plan is not None:
        plan.update(fast=[f for f in texts if f not in slow] if fast else [], lines=slow)
    try:
        con.execute("CREATE TEMP TABLE lines AS " + " UNION ALL BY NAME ".join(f"({part})" for part in parts))
    except unreadable as error:  # (a file that starts as gzip but is cut or damaged)
        raise NotALog(_culprit(con, slow, error)) from None
    if fast:  # a line the CSV reader drops (not UTF-8) is still a row of the JSON reader's: not JSON
        con.execute(UNREADABLE)
    params = {"since": since, "until": until, "service": service, "exception": exception}
    for statement in CHOSEN.strip().split(";"):  # views cannot take parameters: the values are quoted in
        con.execute(_bind(statement, params))

    def run(name: str) -> list[tuple[Any, ...]]:
        return con.execute(_bind(QUERIES[name], params)).fetchall()

    found = dict(run("per_file"))
    for filename in files:
        if not found.get(filename):
            raise NotALog(f"{filename}: no decision event in it (its lines are not the JSON events a "
                          f"DecisionLog writes); pass the decision log files")
    tally = Tally()
    for rule, ctype, allowed, n in run("rules"):
        tally.decision(rule, ctype, allowed, n)
    for rule, code, n in run("rule_reasons"):
        tally.rule_reason(rule, code, n)
    for exc, ctype, code, n in run("exceptions"):
        tally.exception(exc, ctype, code, n)
    for day, allowed, n in run("days"):
        tally.day(day, allowed, n)
    (total, first, last), = run("totals")
    return tally.result(total, dict(run("skipped")), first, last, since, until)


def _culprit(con: Any, files: list[str], error: Exception) -> str:
    """Which file could not be read, tried one by one (only when reading them together failed)."""
    import duckdb

    for kind, group in _by_compression([f for f in files if not f.endswith(".parquet")]).items():
        for name in group:
            try:
                con.execute(f"SELECT count(*) FROM ({_lines_of([name], kind)})").fetchall()
            except duckdb.Error as alone:
                if kind == "gzip":
                    return (f"{name}: no decision event in it: it starts as gzip-compressed data but does not "
                            f"decompress (cut short or damaged)")
                return f"{name}: cannot be read as a decision log: {str(alone).splitlines()[0]}"
    return f"cannot read the logs as decision logs: {str(error).splitlines()[0]}"


def _bind(sql: str, params: dict[str, str | None]) -> str:
    """The statement with $name replaced by a quoted literal (or NULL)."""
    for name, value in params.items():
        sql = sql.replace(f"${name}", "NULL" if value is None else _literal(value))
    return sql


