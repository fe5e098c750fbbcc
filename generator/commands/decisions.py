"""Commands for decisions and their logs: decide, keygen, report."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from .common import EXIT_INVALID, Date, run


@click.command()
@click.option("--bundle", "bundle_path", type=click.Path(path_type=Path), required=True,
              help="bundle.tar.gz, an extracted bundle folder, or a folder holding bundle.tar.gz.")
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8"), default="-",
              help="Requests: one JSON object, or JSON lines (default: standard input).")
@click.option("--key", type=click.Path(path_type=Path), default=None,
              help="Public key (PEM): the bundle must be signed with its private key.")
@click.option("--engine", type=click.Choice(["python", "opa"]), default="python", show_default=True,
              help="python: the decision library; opa: Open Policy Agent's own engine, in process "
                   "(needs scripts/fetch-engines.sh or POLICY_OPA_PATH).")
def decide(bundle_path: Path, input_file, key: Path | None, engine: str) -> None:
    """Decide requests against a bundle; prints one decision (JSON) per request.

    \b
    Examples:
      echo '{"use": "weapons.design"}' | policy decide --bundle site/bundle
      policy decide --bundle site/bundle --engine opa --input requests.jsonl
    """
    from ..runtime import Bundle

    bundle = run(lambda: Bundle.load(bundle_path, public_key=key))
    if engine == "opa":
        from ..opa import OpaDecider

        opa = run(lambda: OpaDecider(bundle.files, str(bundle_path)))
        decide_one = lambda request: _in_order(opa.decide(request))  # noqa: E731
    else:
        decide_one = lambda request: bundle.decide(request).to_dict()  # noqa: E731
    failed = _decide_stream(decide_one, input_file)
    if failed:
        click.echo(f"policy decide: {failed} request(s) could not be read as JSON", err=True)
        sys.exit(EXIT_INVALID)


_FIELDS = ("allowed", "use", "rule", "effect", "exception", "purposes", "obligations", "reasons", "revision",
           "version")


_REASON_FIELDS = ("code", "exception", "detail")


def _in_order(decision: dict) -> dict:
    """OPA returns objects with sorted keys; print its decisions in the library's field order so
    that the two engines' output can be compared with diff."""
    out = {k: decision[k] for k in _FIELDS if k in decision}
    out.update((k, v) for k, v in decision.items() if k not in out)
    if isinstance(out.get("reasons"), list):
        out["reasons"] = [{k: r[k] for k in _REASON_FIELDS if k in r} | r if isinstance(r, dict) else r
                          for r in out["reasons"]]
    return out


def _decide_stream(decide_one, stream) -> int:
    """JSON lines (a decision per line, written as each line is read) or one JSON document
    spread over several lines. A line that is not JSON gets an error object and the run goes on.
    Returns how many requests could not be read."""
    failed = 0
    seen_request = False
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except (ValueError, RecursionError) as exc:
            if not seen_request and line.lstrip().startswith("{"):
                document = line + stream.read()  # perhaps one pretty-printed object
                try:
                    request = json.loads(document)
                except (ValueError, RecursionError):
                    pass
                else:
                    click.echo(json.dumps(decide_one(request), ensure_ascii=False))
                    return failed
            failed += 1
            why = (f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                   else "nested too deeply" if isinstance(exc, RecursionError) else str(exc))
            click.echo(json.dumps({"error": f"line {number}: not valid JSON ({why})", "line": number}))
            continue
        seen_request = True
        click.echo(json.dumps(decide_one(request), ensure_ascii=False))
    return failed


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--algorithm", type=click.Choice(["ES256", "RS256"]), default="ES256", show_default=True,
              help="ES256 (ECDSA P-256) or RS256 (RSA 3072).")
def keygen(directory: Path, algorithm: str) -> None:
    """Write a signing key pair: DIRECTORY/private.pem and DIRECTORY/public.pem."""
    from ..bundle.sign import generate_keypair

    private, public = run(lambda: generate_keypair(directory, algorithm))
    click.echo(f"wrote {private} (keep it secret; mode 0600) and {public} (give it to services)")


@click.command()
@click.argument("logs", nargs=-1, required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", type=Date(), default=None, help="Only decisions on or after this date (UTC).")
@click.option("--until", type=Date(), default=None, help="Only decisions on or before this date (UTC).")
@click.option("--exception", "exception_id", default=None, help="Only this exception in the exceptions part.")
@click.option("--service", default=None, help="Only decisions logged with this 'service' label.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "csv"]), default="markdown",
              show_default=True)
@click.option("--engine", type=click.Choice(["duckdb", "python"]), default="duckdb", show_default=True,
              help="duckdb: the report as SQL in DuckDB (fast, gzip and rotated files too); python: line by line.")
@click.option("--sql", "print_sql", is_flag=True, help="Print the report's SQL (to run on another engine) and stop.")
def report(logs: tuple[Path, ...], since: dt.date | None, until: dt.date | None, exception_id: str | None,
           service: str | None, fmt: str, engine: str, print_sql: bool) -> None:
    """Summarize decision logs per exception, per rule and per day, for the review of each exception.

    \b
    Examples:
      policy report /var/log/usage-policy/decisions.jsonl* --since 2025-07-01
      policy report logs/*.jsonl.gz --service analysis-api --format csv > report.csv
      policy report --sql > report.sql
    """
    from ..report import summarize, to_csv, to_json, to_markdown

    if print_sql:
        from ..reportsql import sql_text

        click.echo(sql_text(), nl=False)
        return
    if not logs:
        raise click.UsageError("give the decision log files to report on (or --sql)")
    day = (lambda d: d.isoformat() if d else None)
    if engine == "duckdb":
        from ..reportsql import summarize_sql

        result = run(lambda: summarize_sql(logs, day(since), day(until), service, exception_id))
    else:
        result = run(lambda: summarize(logs, day(since), day(until), service, exception_id))
    click.echo({"json": to_json, "csv": to_csv}.get(fmt, to_markdown)(result), nl=False)
