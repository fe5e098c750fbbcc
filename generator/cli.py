"""The `policy` command: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 success; 1 the sources (or other input) are invalid; 2 usage error or unreadable
input. No traceback reaches the user for an expected failure.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .bundle.errors import BundleError, BundleNotFound, KeyFileError, PackagingError
from .errors import Diagnostic, PolicyError, UsageError, ValidationFailed
from .gcpause import paused_collection

EXIT_INVALID = 1
EXIT_USAGE = 2


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date written YYYY-MM-DD", param, ctx)


root_option = click.option(
    "--root", type=click.Path(path_type=Path), default=Path("."), show_default=True,
    help="The folder holding policy/ and exceptions/.")


def _display(root: Path, path: str) -> str:
    """A source path as the user can open it: relative to where they ran the command."""
    return os.path.normpath(os.path.join(str(root), path)) + ("/" if path.endswith("/") else "")


def _print_diagnostics(root: Path, diagnostics, *, err: bool = False) -> None:
    for d in diagnostics:
        shown = Diagnostic(_display(root, d.path), d.line, d.col, d.message, d.severity)
        click.echo(shown.format(), err=err)


def _summary(errors: int, warnings: int, files: int) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    if not errors and not warnings:
        return f"policy check: {n(files, 'file')} checked, no problems found"
    return f"policy check: {n(errors, 'error')}, {n(warnings, 'warning')} in {n(files, 'file')}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy")
def main() -> None:
    """Policy-as-code for usage policies: check, publish and decide from YAML sources."""


@main.command()
@root_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 when there are any).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one 'path:line:col: message' per line; json: a list of objects.")
@click.option("--today", type=_Date(), default=None,
              help="Evaluate date-based warnings (review dates) as of this date instead of today (UTC).")
@click.option("--against", metavar="REV", default="HEAD", show_default=True,
              help="Revision to compare with: its published rule ids must still exist (retired, not deleted), "
                   "and with notice_days set, rules made stricter since then must wait that long.")
def check(root: Path, strict: bool, fmt: str, today: dt.date | None, against: str) -> None:
    """Validate the policy sources and report every problem with its file, line and column."""
    from .history import published_id_problems
    from .validate import CheckResult, check_root_cached

    from .config import load_settings

    stages: dict = {}
    result = _run(lambda: check_root_cached(root, today=today, keep=stages))
    note = ""
    if result.corpus is not None:
        settings = _run(lambda: load_settings(root)) if not result.errors else None
        problems, note = _run(lambda: published_id_problems(
            root, result.corpus, against, stages, notice_days=settings.notice_days if settings else 0, today=today,
            require_approval=settings.require_approval if settings else "none"))
        if settings is not None:
            problems = list(problems) + _run(lambda: _translation_problems(root, result.corpus, settings))
        if problems:
            result = CheckResult(result.corpus, tuple(sorted(result.diagnostics + tuple(problems))),
                                 result.files, result.digests)
    errors, warnings = len(result.errors), len(result.warnings)
    if fmt == "json":
        items = [{"path": _display(root, d.path), "line": d.line, "column": d.col,
                  "severity": d.severity, "message": d.message} for d in result.diagnostics]
        click.echo(json.dumps({"ok": result.ok(strict), "errors": errors, "warnings": warnings,
                               "files": result.files, "diagnostics": items, "notes": [note] if note else []},
                              indent=2))
    else:
        _print_diagnostics(root, result.diagnostics)
        if note:
            click.echo(f"note: {note}")
        click.echo(_summary(errors, warnings, result.files))
    if not result.ok(strict):
        sys.exit(EXIT_INVALID)


@main.command()
@root_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the site (default: site/ under --root). Replaced atomically.")
@click.option("--strict", is_flag=True, help="Refuse to build when there are warnings.")
@click.option("--today", type=_Date(), default=None, help="Evaluate date-based warnings as of this date.")
@click.option("--sign-key", type=click.Path(path_type=Path), envvar="POLICY_SIGNING_KEY", default=None,
              help="PEM private key to sign the bundle with (or set POLICY_SIGNING_KEY).")
@click.option("--key-id", default="policy", show_default=True, help="Key id recorded in the signature.")
@click.option("--rev", default=None, metavar="REV", help="Build the sources as of this git revision.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Processes rendering pages (default: one per CPU; the output is the same).")
@click.option("--pdf/--no-pdf", default=None,
              help="Make (or skip) the PDF of every document and version (default: [tool.policy] pdf, true).")
def build(root: Path, out: Path | None, strict: bool, today: dt.date | None, sign_key: Path | None,
          key_id: str, rev: str | None, jobs: int | None, pdf: bool | None) -> None:
    """Validate the sources, then write the site (pages as HTML and Markdown) and the rule bundle."""
    from .render.pdf import converters_for, converting

    # the PDF converter's processes start first, so that they are ready when the pages are
    with converting(converters_for(root, rev, pdf, jobs)):
        _build_command(root, out, strict, today, sign_key, key_id, rev, jobs, pdf)


def _build_command(root: Path, out: Path | None, strict: bool, today: dt.date | None, sign_key: Path | None,
                   key_id: str, rev: str | None, jobs: int | None, pdf: bool | None) -> None:
    from .build import build as run_build
    from .validate import CheckResult, check_root

    target = out if out is not None else root / "site"
    if strict:
        result = _run(lambda: check_root(root, today=today))
        if result.corpus is not None and not result.errors and rev is None:
            from .config import load_settings

            settings = _run(lambda: load_settings(root))
            extra = _run(lambda: _translation_problems(root, result.corpus, settings))
            result = CheckResult(result.corpus, tuple(sorted(result.diagnostics + tuple(extra))), result.files)
        if result.warnings:
            _print_diagnostics(root, result.diagnostics, err=True)
            click.echo(f"policy build: {len(result.warnings)} warning(s) and --strict; nothing was written",
                       err=True)
            sys.exit(EXIT_INVALID)
    done = _run(lambda: run_build(root, target, today=today, sign_key=sign_key, key_id=key_id, rev=rev,
                                  jobs=jobs, pdf=pdf), root=root)
    _print_diagnostics(root, done.warnings, err=True)
    click.echo(f"policy build: wrote {done.stats.pages} files to {os.path.normpath(target)} "
               f"({done.stats.rendered} rendered, {done.stats.reused} unchanged) from {done.revision}")


@main.command()
@root_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to serve on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def preview(root: Path, port: int, host: str) -> None:
    """Serve the site locally and rebuild it whenever a source file is saved."""
    import time

    from .preview import Preview

    if not root.is_dir():
        click.echo(f"policy preview: {root} is not a folder; pass --root the folder holding policy/ and exceptions/",
                   err=True)
        sys.exit(EXIT_USAGE)

    def report(p: Preview) -> None:
        if p.errors or p.failure:
            _print_diagnostics(root, p.errors, err=True)
            if p.failure:
                click.echo(f"policy preview: {p.failure}", err=True)
            click.echo(f"policy preview: build {p.builds} failed; the page shows the errors", err=True)
        else:
            click.echo(f"policy preview: build {p.builds} ok")

    server = Preview(root, host, port, on_build=report)
    try:
        server.start()
    except OSError as exc:
        server.stop()
        click.echo(f"policy preview: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"policy preview: serving {server.url} ; watching {os.path.normpath(root)} (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@main.command()
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
    from .runtime import Bundle

    bundle = _run(lambda: Bundle.load(bundle_path, public_key=key))
    if engine == "opa":
        from .opa import OpaDecider

        opa = _run(lambda: OpaDecider(bundle.files, str(bundle_path)))
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


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--algorithm", type=click.Choice(["ES256", "RS256"]), default="ES256", show_default=True,
              help="ES256 (ECDSA P-256) or RS256 (RSA 3072).")
def keygen(directory: Path, algorithm: str) -> None:
    """Write a signing key pair: DIRECTORY/private.pem and DIRECTORY/public.pem."""
    from .bundle.sign import generate_keypair

    private, public = _run(lambda: generate_keypair(directory, algorithm))
    click.echo(f"wrote {private} (keep it secret; mode 0600) and {public} (give it to services)")


def _commit_json(c) -> dict:
    return {"commit": c.sha, "date": c.committed.isoformat(), "author": c.author, "subject": c.subject,
            "approved_by": list(c.approvals)}


@main.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rev", default="HEAD", show_default=True, help="Whose history: a branch, tag or commit.")
@paused_collection  # the walk's objects all live until the output is written
def history(root: Path, fmt: str, rev: str) -> None:
    """Versions of the policy from git, newest first, each change summarized clause by clause."""
    from .history.versions import timeline

    line = _run(lambda: timeline(root, rev))
    if line.shallow:
        click.echo("note: this is a shallow clone, so the history is incomplete; "
                   "run 'git fetch --unshallow' for all of it", err=True)
    status = {(page, v.label): v.status for page, vs in line.versions.items() for v in vs}
    if fmt == "json":
        click.echo(json.dumps({
            "format": 1, "as_of": line.as_of.isoformat(), "shallow": line.shallow,
            "versions": {page: [{"version": v.label, "status": v.status, "title": v.title, "tags": v.tags,
                                 "introduced": _commit_json(v.introduced),
                                 "revisions": [_commit_json(r) for r in v.revisions]}
                                for v in reversed(vs)] for page, vs in line.versions.items()},
            "entries": [dict(_commit_json(e.commit), tags=e.tags, summary=e.summary, invalid=e.invalid,
                             changes=[{"page": p, "version": ver, "kind": kind} for p, ver, kind in e.changes])
                        for e in line.newest_first()],
        }, indent=2, ensure_ascii=False))
        return
    if not line.entries:
        click.echo("policy history: no commit changes the policy sources yet")
        return
    for entry in line.newest_first():
        c = entry.commit
        tags = f" [{', '.join(entry.tags)}]" if entry.tags else ""
        click.echo(f"{c.date.isoformat()}  {c.short}  {c.author}: {c.subject}{tags}")
        if entry.invalid is not None:
            click.echo("    not a published state: the sources here do not validate; first error:")
            click.echo(f"    {entry.invalid}")
            continue
        if entry.changes:
            pages = ", ".join(f"{p} {ver} ({kind}, {status.get((p, ver), '')})" for p, ver, kind in entry.changes)
            click.echo(f"    {pages}")
        click.echo(f"    {entry.summary}")


@main.command()
@click.argument("start", metavar="[FROM]", required=False, default="HEAD")
@click.argument("end", metavar="[TO]", required=False, default=None)
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="text: for a terminal; markdown: for a pull request, looser changes first; json: for tools.")
def diff(start: str, end: str | None, root: Path, fmt: str) -> None:
    """Clause-level differences between two revisions or versions (default: HEAD .. working tree).

    FROM and TO are commits, branches, tags, version dates (2024-06-06) or 'worktree'. Every
    change is classed stricter, looser, mixed or editorial.

    \b
    Examples:
      policy diff                               # HEAD .. the working tree
      policy diff main HEAD --format markdown   # for a pull request: looser changes first
      policy diff 2024-06-06 2025-09-15 --format json"""
    from .history import diff_points
    from .history.textdiff import format_markdown, format_text

    result = _run(lambda: diff_points(root, start, end), root=root)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        title = f"policy diff {result['from'][:12] if result['from'] != 'working tree' else 'working tree'}" \
                f" .. {result['to'][:12] if result['to'] != 'working tree' else 'working tree'}"
        click.echo((format_markdown if fmt == "markdown" else format_text)(result, title), nl=False)


@main.command()
@root_option
@click.option("--check", "check_only", is_flag=True, help="Do not write; exit 1 when CHANGELOG.md is stale.")
def changelog(root: Path, check_only: bool) -> None:
    """Write CHANGELOG.md from the published versions in git history."""
    from .history.changelog import changelog_text
    from .history.versions import timeline

    text = _run(lambda: changelog_text(root, timeline(root)), root=root)
    path = root / "CHANGELOG.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if check_only:
        if current != text:
            click.echo(f"policy changelog: {os.path.normpath(path)} is stale; run 'policy changelog' and commit it",
                       err=True)
            sys.exit(EXIT_INVALID)
        click.echo("policy changelog: CHANGELOG.md is up to date")
        return
    if current != text:
        path.write_text(text, encoding="utf-8")
    click.echo(f"policy changelog: wrote {os.path.normpath(path)}")


@main.command()
@click.argument("logs", nargs=-1, required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", type=_Date(), default=None, help="Only decisions on or after this date (UTC).")
@click.option("--until", type=_Date(), default=None, help="Only decisions on or before this date (UTC).")
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
    from .report import summarize, to_csv, to_json, to_markdown

    if print_sql:
        from .reportsql import sql_text

        click.echo(sql_text(), nl=False)
        return
    if not logs:
        raise click.UsageError("give the decision log files to report on (or --sql)")
    day = (lambda d: d.isoformat() if d else None)
    if engine == "duckdb":
        from .reportsql import summarize_sql

        result = _run(lambda: summarize_sql(logs, day(since), day(until), service, exception_id))
    else:
        result = _run(lambda: summarize(logs, day(since), day(until), service, exception_id))
    click.echo({"json": to_json, "csv": to_csv}.get(fmt, to_markdown)(result), nl=False)


@main.command()
@root_option
@click.option("--check", "check_file", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Write nothing; exit 1 when FILE (e.g. .github/CODEOWNERS) differs from what would be printed.")
def codeowners(root: Path, check_file: Path | None) -> None:
    """Print a CODEOWNERS file from [tool.policy.owners]: who approves changes to each document,
    to the exceptions and to the models.

    \b
    Examples:
      policy codeowners > .github/CODEOWNERS
      policy codeowners --check .github/CODEOWNERS     # in CI: exit 1 when it is stale"""
    from .codeowners import codeowners as make
    from .config import load_settings
    from .validate import load_corpus

    settings = _run(lambda: load_settings(root), root=root)
    if not settings.owners:
        click.echo("policy codeowners: no [tool.policy.owners] table in pyproject.toml; add one, e.g.\n"
                   "  [tool.policy.owners]\n  exceptions = [\"@legal/exceptions\"]", err=True)
        sys.exit(EXIT_INVALID)
    corpus = _run(lambda: load_corpus(root), root=root)
    pyproject = root / "pyproject.toml"
    text, problems = make(settings, corpus, _git_prefix(root),
                          pyproject.read_text(encoding="utf-8") if pyproject.is_file() else "")
    if problems:
        _print_diagnostics(root, problems, err=True)
        sys.exit(EXIT_INVALID)
    if check_file is None:
        click.echo(text, nl=False)
        return
    try:
        current = check_file.read_text(encoding="utf-8")
    except OSError as exc:
        click.echo(f"policy codeowners: {_os_error(exc)}", err=True)
        sys.exit(EXIT_INVALID)
    if current != text:
        click.echo(f"policy codeowners: {check_file} is stale; run 'policy codeowners > {check_file}'", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"policy codeowners: {check_file} is up to date")


def _git_prefix(root: Path) -> str:
    """The policy root's folder inside its git repository ('' at the top, or outside git)."""
    from .errors import UsageError
    from .history.gitrepo import GitSources

    try:
        with GitSources(root) as sources:
            return sources.prefix
    except UsageError:
        return ""


@main.command()
@click.argument("logs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@root_option
@click.option("--base", default="HEAD", show_default=True, metavar="REV",
              help="The sources to compare with: a commit, branch, tag or version date.")
@click.option("--head", "head_rev", default="worktree", show_default=True, metavar="REV",
              help="The changed sources: 'worktree' (the files as they are now) or a revision.")
@click.option("--base-bundle", type=click.Path(exists=True, path_type=Path), default=None, metavar="PATH",
              help="Compare a built bundle (a bundle.tar.gz or its folder) instead of --base's sources.")
@click.option("--head-bundle", type=click.Path(exists=True, path_type=Path), default=None, metavar="PATH",
              help="Compare a built bundle instead of --head's sources.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--fail-on", type=click.Choice(["loosening", "any"]), default=None,
              help="Exit 1 when a logged decision would become allowed (loosening) or change at all (any).")
def impact(logs: tuple[Path, ...], root: Path, base: str, head_rev: str, base_bundle: Path | None,
           head_bundle: Path | None, fmt: str, fail_on: str | None) -> None:
    """What a change would do to real traffic: replay logged requests against two versions of the
    sources and report every decision that would change.

    \b
    Examples:
      policy impact /var/log/usage-policy/decisions.jsonl*             # HEAD .. working tree
      policy impact logs/*.jsonl.gz --base origin/main --head HEAD --fail-on loosening
      policy impact logs/decisions.jsonl --format json
      policy impact logs/*.jsonl --base-bundle old/bundle.tar.gz --head-bundle site/bundle"""
    from .config import load_settings
    from .gitinfo import SourceRevision
    from .bundle.data import bundle_data
    from .history import RevisionChecks
    from .impact import replay, to_markdown
    from .runtime.decide import Bundle

    if not logs:
        raise click.UsageError("give the decision log files to replay")
    none = SourceRevision(None, False, None)
    sides = []
    checks = RevisionChecks(root)
    for rev, built in ((base, base_bundle), (head_rev, head_bundle)):
        if built is not None:  # unsigned or signed alike: its own integrity is checked on load
            sides.append((_run(lambda: Bundle.load(built)), str(built)))
            continue
        settings = _run(lambda: load_settings(root), root=root)
        corpus, label = _run(lambda: checks.corpus(rev), root=root)
        sides.append((Bundle(bundle_data(corpus, settings, none)), label))
    (before, base_label), (after, head_label) = sides
    result = _run(lambda: replay(logs, before, after))
    result["base"], result["head"] = base_label, head_label
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(to_markdown(result, base_label[:12] if base_label != "working tree" else base_label,
                               head_label[:12] if head_label != "working tree" else head_label), nl=False)
    if (fail_on == "loosening" and result["loosening"]) or (fail_on == "any" and result["changes"]):
        sys.exit(EXIT_INVALID)


@main.command(name="fmt")
@root_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file is not in the canonical layout.")
def fmt_command(root: Path, check: bool) -> None:
    """Give every source file the canonical layout (comments, key order and wording kept).

    \b
    Examples:
      policy fmt                 # reformat policy/ and exceptions/ in place
      policy fmt --check         # in CI or a pre-commit hook: exit 1 when a file would change
    Exit 0 when every file is (now) formatted; 1 with --check when one is not, or when a file
    cannot be read (it is left as it is); 2 on a usage error."""
    from .fmt import fmt_root

    result = _run(lambda: fmt_root(root, check=check), root=root)
    for path in result.changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {_display(root, path)}")
    _print_diagnostics(root, result.problems, err=True)
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"policy fmt: {len(result.changed)} file{'s' if len(result.changed) != 1 else ''} {verb}"
               + (f", {len(result.problems)} left as they are" if result.problems else ""))
    if result.problems or (check and result.changed):
        sys.exit(EXIT_INVALID)


class _Days(click.ParamType):
    name = "N[d|w]"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        unit = 7 if text.endswith("w") else 1
        number = text[:-1] if text[-1:] in ("d", "w") else text
        if not number.isdigit():
            self.fail(f"{value!r} is not a number of days or weeks (write 30d, 30 or 4w)", param, ctx)
        return int(number) * unit


@main.command()
@root_option
@click.option("--within", type=_Days(), default=None, help="Only dates in the next N days (30d) or weeks (4w).")
@click.option("--today", type=_Date(), default=None, help="Count from this date instead of today (UTC).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def due(root: Path, within: int | None, today: dt.date | None, fmt: str) -> None:
    """Overdue exception reviews and expiries, then the dates coming up, soonest first.

    \b
    Examples:
      policy due                   # everything overdue, and every date still to come
      policy due --within 30d      # the next 30 days only: a daily CI job
      policy due --format json
    Exit 0 when nothing is overdue; 1 when something is (or the sources do not validate); 2 on
    a usage error. The site publishes the same dates as calendar.ics."""
    from .due import agenda, to_json, to_text
    from .validate import check_root_cached

    day = today or dt.datetime.now(dt.timezone.utc).date()
    result = _run(lambda: check_root_cached(root, today=day))
    if result.errors or result.corpus is None:
        _print_diagnostics(root, result.errors, err=True)
        click.echo(f"policy due: {len(result.errors)} error(s) in the sources; fix them first", err=True)
        sys.exit(EXIT_INVALID)
    overdue, coming = agenda(result.corpus, day, within)
    if fmt == "json":
        click.echo(json.dumps(to_json(overdue, coming, day, within), indent=2, ensure_ascii=False))
    else:
        click.echo(to_text(overdue, coming, day, within, lambda path: _display(root, path)), nl=False)
    if overdue:
        sys.exit(EXIT_INVALID)


def _translation_problems(root: Path, corpus, settings) -> list[Diagnostic]:
    from .translate import check_translations

    return check_translations(root, corpus, settings)[1]


@main.command()
@root_option
@click.option("--update", "update", metavar="LOCALE", multiple=True,
              help="Create or bring up to date the catalogs of LOCALE (repeatable): new clauses get empty "
                   "entries, changed ones are marked fuzzy with the text they were made from.")
@click.option("--strict", is_flag=True, help="Exit 1 when a clause of any locale is stale or missing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def translations(root: Path, update: tuple[str, ...], strict: bool, fmt: str) -> None:
    """Each locale's translation status: clauses translated, stale and missing, per file.

    \b
    Examples:
      policy translations                  # one line per locale, then per file
      policy translations --update de      # create or refresh translations/de/*.po for translators
      policy translations --strict         # in CI: exit 1 unless every locale is complete
    Exit 0; 1 when the sources or a catalog do not validate (or, with --strict, a clause is stale
    or missing); 2 on a usage error (an unknown locale tag is reported as invalid input)."""
    from .config import load_settings
    from .translate import check_translations
    from .translate.report import status_json, status_text
    from .translate.update import update_locale
    from .validate import check_root_cached

    result = _run(lambda: check_root_cached(root))
    if result.errors or result.corpus is None:
        _print_diagnostics(root, result.errors, err=True)
        click.echo(f"policy translations: {len(result.errors)} error(s) in the sources; fix them first", err=True)
        sys.exit(EXIT_INVALID)
    settings = _run(lambda: load_settings(root))
    for code in update:
        written = _run(lambda: update_locale(root, result.corpus, settings, code), root=root)
        for path in written:
            click.echo(f"wrote {_display(root, path)}")
        if not written:
            click.echo(f"translations/{code}: already up to date")
    found, problems = _run(lambda: check_translations(root, result.corpus, settings))
    errors = [d for d in problems if d.severity == "error"]
    _print_diagnostics(root, errors, err=True)
    if fmt == "json":
        click.echo(json.dumps(status_json(found), indent=2, ensure_ascii=False))
    else:
        click.echo(status_text(found), nl=False)
    incomplete = any(s.counts()["stale"] or s.counts()["missing"] for s in found.locales)
    if errors or (strict and incomplete):
        sys.exit(EXIT_INVALID)


@main.group()
def new() -> None:
    """Create new source files from commented skeletons."""


@new.command("exception")
@click.argument("exception_id", metavar="ID")
@root_option
def new_exception_cmd(exception_id: str, root: Path) -> None:
    """Write exceptions/ID.yaml: a draft to fill in, then check with `policy check`."""
    from .scaffold import new_exception

    path = _run(lambda: new_exception(root, exception_id))
    click.echo(f"wrote {os.path.normpath(path)}: replace each TODO, then run 'policy check'")


_OS_HINTS = {errno.ENOSPC: "the disk is full: free some space and run the command again",
             errno.EFBIG: "a file grew past the size this system allows (a full disk or a file size limit)",
             errno.EROFS: "that place is on a read-only file system: choose another --out",
             errno.EACCES: "permission denied: choose a folder you may write to, or fix its permissions",
             errno.ENOTDIR: "a file stands where a folder is needed"}


def _os_error(exc: OSError) -> str:
    """An operating-system failure in words: what failed, where, and what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    hint = _OS_HINTS.get(exc.errno or 0)
    return f"{where}{exc.strerror or exc}" + (f"; {hint}" if hint else "")


def _run(action, root: Path = Path(".")):
    """Call the library; turn its typed errors into messages and exit codes."""
    try:
        return action()
    except ValidationFailed as exc:
        _print_diagnostics(root, exc.diagnostics, err=True)
        click.echo(f"policy: {len(exc.errors)} error(s); nothing was written", err=True)
        sys.exit(EXIT_INVALID)
    except (UsageError, BundleNotFound, KeyFileError) as exc:
        click.echo(f"policy: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except (PolicyError, BundleError) as exc:
        click.echo(f"policy: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except PackagingError as exc:
        click.echo(f"policy: the installation is broken: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"policy: {_os_error(exc)}", err=True)
        sys.exit(EXIT_USAGE)
