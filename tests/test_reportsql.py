"""`policy report` on DuckDB gives the same figures as the line-by-line report, on real decision
logs (rotated and gzip files, hostile lines, filters), and its SQL is published and runs."""

from __future__ import annotations

import gzip
import json

import pytest

from conftest import REPO
from generator.build import build
from generator.report import summarize, to_csv
from generator.reportsql import summarize_sql
from generator.runtime import Bundle, DecisionLog, JsonLinesSink

AGENCY = {"type": "government", "exceptions": ["government-foreign-intelligence"],
          "attestations": ["legal-authority", "vetted-agency"]}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logs")
    build(REPO, tmp / "site")
    bundle = Bundle.load(tmp / "site" / "bundle")
    files = []
    for n, service in enumerate(("analysis-api", "billing")):
        path = tmp / f"{service}.jsonl"
        log = DecisionLog(JsonLinesSink(path, max_bytes=20_000, backups=3), labels={"service": service})
        for i in range(300):
            model = ["claude-3-haiku", "claude-opus-4", "nope"][i % 3]
            customer = dict(AGENCY, type=["government", "commercial"][i % 2])
            for use in ("surveillance.intelligence-analysis", "weapons.design", "high-risk.legal", "no.such"):
                request = {"use": use, "customer": customer, "model": model, "at": f"2025-0{1 + i % 3}-1{i % 9}"}
                log.record(request, bundle.decide(request))
        log.close()
        files += sorted(tmp.glob(f"{service}.jsonl*"))
    # a rotated file compressed, and hostile lines in another
    gz = tmp / "old.jsonl.gz"
    gz.write_bytes(gzip.compress(files[-1].read_bytes()))
    files[-1].unlink()
    files[-1] = gz
    with open(files[0], "ab") as fh:
        fh.write(b'not json\n[1]\n{"timestamp": 5, "result": {"allowed": true}}\n'
                 b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": "yes"}}\n'
                 b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": false, "rule": "", '
                 b'"reasons": ["x", 7, {"code": 5, "exception": ""}]}}\n\n')
        # text with escapes: the SQL unquotes these by parsing, the rest by slicing
        fh.write(b'{"timestamp": "2025-01-0\\u0032T00:00:00Z", "labels": {"service": "bil\\u006cing"}, '
                 b'"input": {"customer": {"type": "gov\\"t \\u00e9"}}, '
                 b'"result": {"allowed": false, "rule": "weapons.\\u0064esign", '
                 b'"reasons": [{"code": "no_exception", "exception": "gov\\\\x"}]}}\n'
                 b'{"timestamp": "2025-01-03T00:00:00Z\\n", "result": {"allowed": true, "rule": "\\u00e9"}}\n')
    return files


# Events are dated when they are logged (now); the hostile lines carry 2025-01-01.
@pytest.mark.parametrize("filters", [{}, {"since": "2025-06-01"}, {"until": "2025-12-31"}, {"service": "billing"},
                                     {"exception": "government-foreign-intelligence"},
                                     {"since": "2026-01-01", "until": "2999-12-31", "service": "analysis-api"}],
                         ids=["all", "since", "until", "service", "exception", "combined"])
def test_duckdb_and_python_give_the_same_report(logs, filters):
    python, duck = summarize(logs, **filters), summarize_sql(logs, **filters)
    assert python == duck
    assert python["decisions"] > 0 and python["skipped_by_reason"] and python["days"]
    assert to_csv(python) == to_csv(duck)


def test_the_published_sql_runs_in_duckdb(logs, cli):
    import duckdb

    text = cli(["report", "--sql"]).output
    header, body = text.split("\n\n", 1)
    raw_view = next(line[len("--   "):] for line in header.splitlines() if "CREATE TEMP VIEW raw" in line)
    con = duckdb.connect()
    con.execute(raw_view.rstrip(";").replace("logs/decisions.jsonl*", str(logs[0])))
    for name in ("since", "until", "service", "exception"):
        body = body.replace(f"${name}", "NULL")
    results = {}
    for statement in body.split(";"):
        lines = [line for line in statement.strip().splitlines() if not line.startswith("--")]
        name = next((line[3:] for line in statement.strip().splitlines() if line.startswith("-- ")), None)
        if lines:
            results[name] = con.execute("\n".join(lines)).fetchall()
    total, first, last = results["totals"][0]
    assert total > 0 and first <= last and results["rules"] and results["skipped"]


def test_report_command_formats(logs, cli):
    args = ["report", *map(str, logs)]
    markdown = cli(args)
    assert markdown.exit_code == 0 and "## Per day" in markdown.output
    as_csv = cli([*args, "--format", "csv", "--service", "billing"]).output
    assert as_csv.startswith("section,id,dimension,value,allowed,denied,count\n") and "\nday," in as_csv
    python = json.loads(cli([*args, "--format", "json", "--engine", "python"]).output)
    duck = json.loads(cli([*args, "--format", "json"]).output)
    assert python == duck


def test_parquet_logs_give_the_same_report(logs, tmp_path, cli):
    """Logs kept as Parquet, as text lines (exact) or as event columns, report the same."""
    import duckdb

    plain = [p for p in logs if not p.name.endswith(".gz")]
    as_lines, as_columns = tmp_path / "lines.parquet", tmp_path / "columns.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT line FROM read_csv({[str(p) for p in plain]}, columns={{'line': 'VARCHAR'}}, "
                f"delim='\\x01', quote='', escape='', header=false, auto_detect=false)) TO '{as_lines}'")
    clean = tmp_path / "clean.jsonl"  # events only: a columnar table cannot hold the hostile lines
    clean.write_text("".join(line for p in plain for line in p.read_text().splitlines(keepends=True)
                             if line.startswith('{"decision_id"')))
    con.execute(f"COPY (FROM read_json('{clean}', format='newline_delimited', "
                f"timestampformat='NONE', dateformat='NONE')) TO '{as_columns}'")
    assert summarize_sql([as_lines]) == summarize_sql(plain)
    by_columns, expected = summarize_sql([as_columns]), summarize_sql([clean])
    assert by_columns == expected and by_columns["decisions"] > 1000
    assert cli(["report", str(as_columns), "--engine", "python"]).exit_code == 2
    bogus = tmp_path / "bogus.parquet"
    bogus.write_text("not parquet")
    refused = cli(["report", str(bogus)])
    assert refused.exit_code == 1 and "cannot read the logs" in refused.output


def test_clean_logs_take_the_fast_path(logs):
    """Files of events only are read by the typed JSON reader; a file with any other line is read
    line by line (and still gives the same figures: test above)."""
    plan: dict = {}
    summarize_sql(logs, plan=plan)
    assert str(logs[0]) in plan["lines"] and len(plan["lines"]) == 1
    assert sorted(plan["fast"]) == sorted(str(p) for p in logs[1:])


HOSTILE = {
    "not JSON": b"not json",
    "torn": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allo',
    "array of events": b'[{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": true}}]',
    "two objects": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": true}} {"a": 1}',
    "not UTF-8": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": true, "rule": "\xff"}}',
    "no keys": b'{"a": 1}',
    "number timestamp": b'{"timestamp": 20250101000000, "result": {"allowed": true}}',
    "short timestamp": b'{"timestamp": "2025", "result": {"allowed": true}}',
    "escaped timestamp": b'{"timestamp": "2025-01-0\\u0031T00:00:00Z", "result": {"allowed": true}}',
    "space in timestamp": b'{"timestamp": "2025-01-01 00:00", "result": {"allowed": true}}',
    "bang in timestamp": b'{"timestamp": "2025-01-01!", "result": {"allowed": true}}',
    "result a number": b'{"timestamp": "2025-01-01T00:00:00Z", "result": 7}',
    "result a list": b'{"timestamp": "2025-01-01T00:00:00Z", "result": [true]}',
    "allowed as text": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": "true"}}',
    "allowed null": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": null}}',
    "odd fields": b'{"timestamp": "2025-01-01T00:00:00Z", "input": {"customer": ["x"]}, "labels": "s", '
                  b'"result": {"allowed": false, "rule": 5, "reasons": {"code": "x"}}}',
    "labels a number": b'{"timestamp": "2025-01-01T00:00:00Z", "labels": 5, "result": {"allowed": true}}',
    "null fields": b'{"timestamp": "2025-01-01T00:00:00Z", "input": null, "labels": {"service": null}, '
                   b'"result": {"allowed": true, "rule": null, "reasons": null}}',
    "CRLF": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": true}}\r',
    "blank": b"   ",
    # the JSON reader matches keys whatever their case; the report takes only the exact names
    "key in capitals": b'{"timestamp": "2025-01-01T00:00:00Z", "result": {"Allowed": true, "Rule": "x"}}',
    "keys in capitals": b'{"Timestamp": "2025-01-01T00:00:00Z", "Result": {"allowed": true}}',
}


@pytest.mark.parametrize("line", HOSTILE.values(), ids=HOSTILE.keys())
def test_one_odd_line_among_events(logs, tmp_path, line):
    """Each kind of odd line, alone in a file of real events: the same figures as line by line,
    whichever path DuckDB takes for the file."""
    events = logs[1].read_bytes().splitlines(keepends=True)
    path = tmp_path / "one.jsonl"
    path.write_bytes(b"".join(events[:5]) + line + b"\n" + b"".join(events[5:10]))
    plan: dict = {}
    expected = summarize([path])
    assert summarize_sql([path], plan=plan) == expected
    if expected["skipped_lines"]:  # a line that is not an event is only ever counted line by line
        assert plan["fast"] == [] and plan["lines"] == [str(path)]
    else:
        assert expected["decisions"] == 10 + (line.strip() != b"")
    # filtered by service, the fast path reads labels too (it skips them otherwise)
    for service in ("analysis-api", "s", "billing"):
        assert summarize_sql([path], service=service) == summarize([path], service=service)


def test_gzip_logs_are_known_by_their_bytes(logs, tmp_path):
    """A rotated log compressed without a .gz suffix is read as the line-by-line engine reads it."""
    plain = [p for p in logs if not p.name.endswith(".gz")][1]
    hidden = tmp_path / "decisions.jsonl.2"
    hidden.write_bytes(gzip.compress(plain.read_bytes()))
    expected = summarize([plain])
    assert summarize([hidden]) == expected == summarize_sql([hidden]) == summarize_sql([plain])


def test_a_long_event_beside_an_odd_line(logs, tmp_path):
    """A 3 MB event (a large request) is still an event when its file is read line by line."""
    event = json.loads(logs[1].read_bytes().splitlines()[0])
    event["input"]["note"] = "x" * 3_000_000
    path = tmp_path / "long.jsonl"
    path.write_bytes(json.dumps(event).encode() + b"\nnot json\n" + logs[1].read_bytes())
    plan: dict = {}
    assert summarize_sql([path], plan=plan) == summarize([path]) and plan["lines"] == [str(path)]


def test_results_that_do_not_repeat_are_read_field_by_field(logs, tmp_path):
    """The fast path groups by each whole result when results repeat (real logs); when a writer
    puts something of its own in each result, it asks the reader for the three fields instead
    (grouping by 10,000,000 distinct results would hold them all in memory). Same figures."""
    plan: dict = {}
    summarize_sql(logs[1:], plan=plan)
    assert plan["results"] == ["whole"]
    events = [json.loads(line) for line in logs[1].read_bytes().splitlines()]
    path = tmp_path / "own.jsonl"
    with open(path, "w") as fh:
        for n, event in enumerate(events * 3):
            event["result"]["n"] = n
            fh.write(json.dumps(event) + "\n")
    assert len(events) * 3 > 200
    plan = {}
    assert summarize_sql([path], plan=plan) == summarize([path])
    assert plan == {"results": ["fields"], "fast": [str(path)], "lines": []}
    for service in ("analysis-api", "billing"):
        assert summarize_sql([path], service=service) == summarize([path], service=service)
