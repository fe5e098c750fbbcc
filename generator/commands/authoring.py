"""Commands for the people who edit the sources: check, build, preview, fmt, new, translations,
codeowners, due."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from ..errors import Diagnostic
from ..gcpause import paused_collection
from .common import EXIT_INVALID, EXIT_USAGE, Date, display, os_error, print_diagnostics, root_option, run


def _summary(errors: int, warnings: int, files: int) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    if not errors and not warnings:
        return f"policy check: {n(files, 'file')} checked, no problems found"
    return f"policy check: {n(errors, 'error')}, {n(warnings, 'warning')} in {n(files, 'file')}"


@click.command()
@root_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 when there are any).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one 'path:line:col: message' per line; json: a list of objects.")
@click.option("--today", type=Date(), default=None,
              help="Evaluate date-based warnings (review dates) as of this date instead of today (UTC).")
@click.option("--against", metavar="REV", default="HEAD", show_default=True,
              help="Revision to compare with: its published rule ids must still exist (retired, not deleted), "
                   "and with notice_days set, rules made stricter since then must wait that long.")
@paused_collection  # each command as a whole (see gcpause.py): re-enabled between its stages, the
# collector scanned every object the check had made, twice (gen0, then gen1 while GitPython was
# imported): 95 ms of a cold `policy check` of 10,000 rules in git
def check(root: Path, strict: bool, fmt: str, today: dt.date | None, against: str) -> None:
    """Validate the policy sources and report every problem with its file, line and column."""
    from ..history import published_id_problems
    from ..validate import CheckResult, check_root_cached

    from ..config import load_settings

    stages: dict = {}
    result = run(lambda: check_root_cached(root, today=today, keep=stages))
    note = ""
    if result.corpus is not None:
        settings = run(lambda: load_settings(root)) if not result.errors else None
        problems, note = run(lambda: published_id_problems(
            root, result.corpus, against, stages, notice_days=settings.notice_days if settings else 0, today=today,
            require_approval=settings.require_approval if settings else "none"))
        if settings is not None:
            problems = list(problems) + run(lambda: _translation_problems(root, result.corpus, settings))
        if problems:
            result = CheckResult(result.corpus, tuple(sorted(result.diagnostics + tuple(problems))),
                                 result.files, result.digests)
    errors, warnings = len(result.errors), len(result.warnings)
    if fmt == "json":
        items = [{"path": display(root, d.path), "line": d.line, "column": d.col,
                  "severity": d.severity, "message": d.message} for d in result.diagnostics]
        click.echo(json.dumps({"ok": result.ok(strict), "errors": errors, "warnings": warnings,
                               "files": result.files, "diagnostics": items, "notes": [note] if note else []},
                              indent=2))
    else:
        print_diagnostics(root, result.diagnostics)
        if note:
            click.echo(f"note: {note}")
        click.echo(_summary(errors, warnings, result.files))
    if not result.ok(strict):
        sys.exit(EXIT_INVALID)


@click.command()
@root_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the site (default: site/ under --root). Replaced atomically.")
@click.option("--strict", is_flag=True, help="Refuse to build when there are warnings.")
@click.option("--today", type=Date(), default=None, help="Evaluate date-based warnings as of this date.")
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
    from ..render.pdf import converters_for, converting

    # the PDF converter's processes start first, so that they are ready when the pages are
    with converting(converters_for(root, rev, pdf, jobs)):
        _build_command(root, out, strict, today, sign_key, key_id, rev, jobs, pdf)


@paused_collection
def _build_command(root: Path, out: Path | None, strict: bool, today: dt.date | None, sign_key: Path | None,
                   key_id: str, rev: str | None, jobs: int | None, pdf: bool | None) -> None:
    from ..build import build as run_build
    from ..validate import CheckResult, check_root_cached

    target = out if out is not None else root / "site"
    if strict:  # (the build's own check then takes every file from the stage cache)
        result = run(lambda: check_root_cached(root, today=today))
        if result.corpus is not None and not result.errors and rev is None:
            from ..config import load_settings

            settings = run(lambda: load_settings(root))
            extra = run(lambda: _translation_problems(root, result.corpus, settings))
            result = CheckResult(result.corpus, tuple(sorted(result.diagnostics + tuple(extra))), result.files)
        if result.warnings:
            print_diagnostics(root, result.diagnostics, err=True)
            click.echo(f"policy build: {len(result.warnings)} warning(s) and --strict; nothing was written",
                       err=True)
            sys.exit(EXIT_INVALID)
    done = run(lambda: run_build(root, target, today=today, sign_key=sign_key, key_id=key_id, rev=rev,
                                  jobs=jobs, pdf=pdf), root=root)
    print_diagnostics(root, done.warnings, err=True)
    click.echo(f"policy build: wrote {done.stats.pages} files to {os.path.normpath(target)} "
               f"({done.stats.rendered} rendered, {done.stats.reused} unchanged) from {done.revision}")


@click.command()
@root_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to serve on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def preview(root: Path, port: int, host: str) -> None:
    """Serve the site locally and rebuild it whenever a source file is saved."""
    import time

    from ..preview import Preview

    if not root.is_dir():
        click.echo(f"policy preview: {root} is not a folder; pass --root the folder holding policy/ and exceptions/",
                   err=True)
        sys.exit(EXIT_USAGE)

    def report(p: Preview) -> None:
        if p.errors or p.failure:
            print_diagnostics(root, p.errors, err=True)
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


@click.command(name="fmt")
@root_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file is not in the canonical layout.")
@click.argument("paths", nargs=-1, metavar="[FILE]...", type=click.Path(path_type=Path))
def fmt_command(root: Path, check: bool, paths: tuple[Path, ...]) -> None:
    """Give every source file the canonical layout (comments, key order and wording kept), or
    only the FILEs named (paths from the current folder: what a pre-commit hook or an editor
    passes).

    \b
    Examples:
      policy fmt                 # reformat policy/ and exceptions/ in place
      policy fmt --check         # in CI: exit 1 when a file would change
      policy fmt --check policy/usage-policy.yaml exceptions/gov.yaml   # just these files
    Exit 0 when every file is (now) formatted; 1 with --check when one is not, or when a file
    cannot be read (it is left as it is); 2 on a usage error (a FILE that is not a source file)."""
    from ..fmt import fmt_root

    result = run(lambda: fmt_root(root, check=check, paths=paths), root=root)
    for path in result.changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {display(root, path)}")
    print_diagnostics(root, result.problems, err=True)
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"policy fmt: {len(result.changed)} file{'s' if len(result.changed) != 1 else ''} {verb}"
               + (f", {len(result.problems)} left as they are" if result.problems else ""))
    if result.problems or (check and result.changed):
        sys.exit(EXIT_INVALID)


@click.group()
def new() -> None:
    """Create new source files from commented skeletons."""


@new.command("exception")
@click.argument("exception_id", metavar="ID")
@root_option
def new_exception_cmd(exception_id: str, root: Path) -> None:
    """Write exceptions/ID.yaml: a draft to fill in, then check with `policy check`."""
    from ..scaffold import new_exception

    path = run(lambda: new_exception(root, exception_id))
    click.echo(f"wrote {os.path.normpath(path)}: replace each TODO, then run 'policy check'")


def _translation_problems(root: Path, corpus, settings) -> list[Diagnostic]:
    from ..translate import check_translations

    return check_translations(root, corpus, settings)[1]


@click.command()
@root_option
@click.option("--update", "update", metavar="LOCALE", multiple=True,
              help="Create or bring up to date the catalogs of LOCALE (repeatable): new clauses get empty "
                   "entries, changed ones are marked fuzzy with the text they were made from.")
@click.option("--strict", is_flag=True, help="Exit 1 when a clause of any locale is stale or missing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@paused_collection
def translations(root: Path, update: tuple[str, ...], strict: bool, fmt: str) -> None:
    """Each locale's translation status: clauses translated, stale and missing, per file.

    \b
    Examples:
      policy translations                  # one line per locale, then per file
      policy translations --update de      # create or refresh translations/de/*.po for translators
      policy translations --strict         # in CI: exit 1 unless every locale is complete
    Exit 0; 1 when the sources or a catalog do not validate (or, with --strict, a clause is stale
    or missing); 2 on a usage error (an unknown locale tag is reported as invalid input)."""
    from ..config import load_settings
    from ..translate import check_translations
    from ..translate.report import status_json, status_text
    from ..translate.update import update_locale
    from ..validate import check_root_cached

    result = run(lambda: check_root_cached(root))
    if result.errors or result.corpus is None:
        print_diagnostics(root, result.errors, err=True)
        click.echo(f"policy translations: {len(result.errors)} error(s) in the sources; fix them first", err=True)
        sys.exit(EXIT_INVALID)
    settings = run(lambda: load_settings(root))
    for code in update:
        written = run(lambda: update_locale(root, result.corpus, settings, code), root=root)
        for path in written:
            click.echo(f"wrote {display(root, path)}")
        if not written:
            click.echo(f"translations/{code}: already up to date")
    found, problems = run(lambda: check_translations(root, result.corpus, settings))
    errors = [d for d in problems if d.severity == "error"]
    print_diagnostics(root, errors, err=True)
    if fmt == "json":
        click.echo(json.dumps(status_json(found), indent=2, ensure_ascii=False))
    else:
        click.echo(status_text(found), nl=False)
    incomplete = any(s.counts()["stale"] or s.counts()["missing"] for s in found.locales)
    if errors or (strict and incomplete):
        sys.exit(EXIT_INVALID)


@click.command()
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
    from ..codeowners import codeowners as make
    from ..config import load_settings
    from ..validate import load_corpus

    settings = run(lambda: load_settings(root), root=root)
    if not settings.owners:
        click.echo("policy codeowners: no [tool.policy.owners] table in pyproject.toml; add one, e.g.\n"
                   "  [tool.policy.owners]\n  exceptions = [\"@legal/exceptions\"]", err=True)
        sys.exit(EXIT_INVALID)
    corpus = run(lambda: load_corpus(root), root=root)
    pyproject = root / "pyproject.toml"
    text, problems = make(settings, corpus, _git_prefix(root),
                          pyproject.read_text(encoding="utf-8") if pyproject.is_file() else "")
    if problems:
        print_diagnostics(root, problems, err=True)
        sys.exit(EXIT_INVALID)
    if check_file is None:
        click.echo(text, nl=False)
        return
    try:
        current = check_file.read_text(encoding="utf-8")
    except OSError as exc:
        click.echo(f"policy codeowners: {os_error(exc)}", err=True)
        sys.exit(EXIT_INVALID)
    if current != text:
        click.echo(f"policy codeowners: {check_file} is stale; run 'policy codeowners > {check_file}'", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"policy codeowners: {check_file} is up to date")


def _git_prefix(root: Path) -> str:
    """The policy root's folder inside its git repository ('' at the top, or outside git)."""
    from ..errors import UsageError
    from ..history.gitrepo import GitSources

    try:
        with GitSources(root) as sources:
            return sources.prefix
    except UsageError:
        return ""


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


@click.command()
@root_option
@click.option("--within", type=_Days(), default=None, help="Only dates in the next N days (30d) or weeks (4w).")
@click.option("--today", type=Date(), default=None, help="Count from this date instead of today (UTC).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@paused_collection
def due(root: Path, within: int | None, today: dt.date | None, fmt: str) -> None:
    """Overdue exception reviews and expiries, then the dates coming up, soonest first.

    \b
    Examples:
      policy due                   # everything overdue, and every date still to come
      policy due --within 30d      # the next 30 days only: a daily CI job
      policy due --format json
    Exit 0 when nothing is overdue; 1 when something is (or the sources do not validate); 2 on
    a usage error. The site publishes the same dates as calendar.ics."""
    from ..due import agenda, to_json, to_text
    from ..validate import check_root_cached

    day = today or dt.datetime.now(dt.timezone.utc).date()
    result = run(lambda: check_root_cached(root, today=day))
    if result.errors or result.corpus is None:
        print_diagnostics(root, result.errors, err=True)
        click.echo(f"policy due: {len(result.errors)} error(s) in the sources; fix them first", err=True)
        sys.exit(EXIT_INVALID)
    overdue, coming = agenda(result.corpus, day, within)
    if fmt == "json":
        click.echo(json.dumps(to_json(overdue, coming, day, within), indent=2, ensure_ascii=False))
    else:
        click.echo(to_text(overdue, coming, day, within, lambda path: display(root, path)), nl=False)
    if overdue:
        sys.exit(EXIT_INVALID)
