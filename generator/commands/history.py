"""Commands that read git history: history, diff, changelog, impact."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..gcpause import paused_collection
from .common import EXIT_INVALID, root_option, run


def _commit_json(c) -> dict:
    return {"commit": c.sha, "date": c.committed.isoformat(), "author": c.author, "subject": c.subject,
            "approved_by": list(c.approvals)}


@click.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rev", default="HEAD", show_default=True, help="Whose history: a branch, tag or commit.")
@paused_collection  # the walk's objects all live until the output is written
def history(root: Path, fmt: str, rev: str) -> None:
    """Versions of the policy from git, newest first, each change summarized clause by clause."""
    from ..history.versions import timeline
    from ..validate.stagecache import Saved

    # blobs with the bytes of a file `policy check` or `policy build` has checked are not parsed
    line = run(lambda: timeline(root, rev, reuse=Saved(root)))
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


@click.command()
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
    from ..history import diff_points
    from ..history.textdiff import format_markdown, format_text

    result = run(lambda: diff_points(root, start, end), root=root)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        title = f"policy diff {result['from'][:12] if result['from'] != 'working tree' else 'working tree'}" \
                f" .. {result['to'][:12] if result['to'] != 'working tree' else 'working tree'}"
        click.echo((format_markdown if fmt == "markdown" else format_text)(result, title), nl=False)


@click.command()
@root_option
@click.option("--check", "check_only", is_flag=True, help="Do not write; exit 1 when CHANGELOG.md is stale.")
@paused_collection  # the versions' models and diffs all live until the file is written
def changelog(root: Path, check_only: bool) -> None:
    """Write CHANGELOG.md from the published versions in git history."""
    from ..history.changelog import changelog_text
    from ..history.versions import timeline
    from ..validate.stagecache import Saved

    checked = Saved(root)  # the stage cache, read only when a blob must be parsed
    text = run(lambda: changelog_text(root, timeline(root, reuse=checked), stages=checked), root=root)
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


@click.command()
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
    from ..config import load_settings
    from ..gitinfo import SourceRevision
    from ..bundle.data import bundle_data
    from ..history import RevisionChecks
    from ..impact import replay, to_markdown
    from ..runtime.decide import Bundle

    if not logs:
        raise click.UsageError("give the decision log files to replay")
    none = SourceRevision(None, False, None)
    sides = []
    checks = RevisionChecks(root)
    for rev, built in ((base, base_bundle), (head_rev, head_bundle)):
        if built is not None:  # unsigned or signed alike: its own integrity is checked on load
            sides.append((run(lambda: Bundle.load(built)), str(built)))
            continue
        settings = run(lambda: load_settings(root), root=root)
        corpus, label = run(lambda: checks.corpus(rev), root=root)
        sides.append((Bundle(bundle_data(corpus, settings, none)), label))
    (before, base_label), (after, head_label) = sides
    result = run(lambda: replay(logs, before, after))
    result["base"], result["head"] = base_label, head_label
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(to_markdown(result, base_label[:12] if base_label != "working tree" else base_label,
                               head_label[:12] if head_label != "working tree" else head_label), nl=False)
    if (fail_on == "loosening" and result["loosening"]) or (fail_on == "any" and result["changes"]):
        sys.exit(EXIT_INVALID)
