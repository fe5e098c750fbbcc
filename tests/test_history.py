"""Versions, history, diffs, changelog and published ids, on real git repositories made here."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import git
import pytest

from conftest import FIXTURES, REPO, build_root
from generator.build import build
from generator.history import diff_points
from generator.history.gitrepo import GitSources
from generator.cachedir import cache_folder
from generator.history.versions import CACHE_NAME, timeline

GOLDEN = FIXTURES.parent / "golden"


def entries(root, **kw):
    line = timeline(root, as_of=dt.date(2025, 1, 1), **kw)
    return line, [(e.commit.subject, e.changes, e.summary) for e in line.entries]


def test_linear_history_versions_revisions_and_statuses(repo):
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Editorial fix")
    repo.edit("policy/main.yaml", "effective: 2024-06-06", "effective: 2025-09-15")
    repo.edit("policy/main.yaml", "        waivable: true\n", "        waivable: false\n")
    repo.edit("exceptions/gov.yaml", "  - rule: surveillance.intelligence-analysis", "  - rule: high-risk.legal")
    repo.git.git.checkout("--", "exceptions/gov.yaml")
    repo.commit("Version of 15 September 2025")
    repo.edit("exceptions/gov.yaml", "review_by: 2030-06-26", "review_by: 2031-06-26")
    repo.commit("Move the review date", author="Bob Counsel")
    (repo.root / "README.md").write_text("code only\n")
    repo.commit("Docs only: not a policy change")
    line, got = entries(repo.root)
    assert [g[0] for g in got] == ["First version", "Editorial fix", "Version of 15 September 2025",
                                   "Move the review date"]
    assert got[1][1] == [("main", "2024-06-06", "revision")]
    assert got[1][2] == "1 rule changed"
    assert got[2][1] == [("main", "2025-09-15", "new version")]
    assert got[2][2] == "main: version 2024-06-06 -> 2025-09-15; 1 rule changed"
    assert got[3] == ("Move the review date", [("exceptions", "2024-06-26", "revision")],
                      "exception gov: review date moved")
    main = line.versions["main"]
    assert [(v.label, v.status, len(v.revisions)) for v in main] == [("2024-06-06", "in force", 1),
                                                                    ("2025-09-15", "scheduled", 0)]
    assert line.versions["exceptions"][0].status == "in force"


def test_annotated_tags_label_versions(repo, cli):
    repo.git.create_tag("policy-2024-06", message="The June 2024 policy")
    repo.git.create_tag("lightweight")  # not a label
    line, _ = entries(repo.root)
    assert line.versions["main"][0].tags == ["policy-2024-06"]
    assert "[policy-2024-06]" in cli(["history", "--root", str(repo.root)]).output


def test_merge_counts_once_on_the_first_parent_line(repo):
    repo.git.git.checkout("-b", "edits")
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("On a branch")
    repo.git.git.checkout("main")
    repo.edit("policy/models.yaml", "name: Small", "name: Small model")
    repo.commit("On main")
    repo.git.git.merge("edits", "--no-ff", "-m", "Merge the branch")
    line, got = entries(repo.root)
    assert [g[0] for g in got] == ["First version", "On main", "Merge the branch"]
    assert got[2][2] == "1 rule changed"


def test_renamed_file_is_the_same_document(repo):
    repo.git.git.mv("policy/main.yaml", "policy/core.yaml")
    repo.commit("Rename the file")
    line, got = entries(repo.root)
    assert got[-1] == ("Rename the file", [("main", "2024-06-06", "revision")], "no change to the policy")
    assert len(line.versions["main"]) == 1


def test_file_deleted_and_added_again(repo):
    gov = (repo.root / "exceptions" / "gov.yaml").read_text()
    (repo.root / "exceptions" / "gov.yaml").unlink()
    repo.commit("Withdraw the exception")
    (repo.root / "exceptions" / "gov.yaml").write_text(gov)
    repo.commit("Restore the exception")
    line, got = entries(repo.root)
    assert got[1][2] == "exception gov removed" and got[2][2] == "exception gov added"
    assert [v.label for v in line.versions["exceptions"]] == ["2024-06-26", "undated", "2024-06-26-2"]


def test_shallow_clone_says_history_is_incomplete(repo, tmp_path, cli):
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Second")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    result = cli(["history", "--root", str(clone), "--format", "json"])
    assert result.exit_code == 0
    assert "shallow clone" in result.output  # the note (on standard error)
    data = json.loads(result.output[result.output.index("{"):])
    assert data["shallow"] is True and len(data["entries"]) == 1


def test_repository_without_commits(tmp_path, cli):
    root = build_root(tmp_path / "fresh")
    git.Repo.init(root).close()
    assert cli(["history", "--root", str(root)]).output.startswith("policy history: no commit")
    result = cli(["diff", "--root", str(root)])
    assert result.exit_code == 2 and "no commits yet" in result.output
    build(root, tmp_path / "site")
    assert "No version has been committed yet." in (tmp_path / "site" / "versions" / "index.html").read_text()
    check = cli(["check", "--root", str(root)])
    assert check.exit_code == 0 and "no commits yet" in check.output


def test_dirty_working_tree_diff(repo, cli):
    repo.edit("policy/main.yaml", "        text: Designing weapons.\n", "        text: Designing weapons.\n"
                                                                         "        waivable: true\n")
    result = cli(["diff", "--root", str(repo.root)])
    assert result.exit_code == 0, result.output
    assert "~ weapons.design changed" in result.output
    assert "waivable: false -> true (looser)" in result.output


def _known_pair(repo):
    """v1 = the base fixture; v2 = one edit of every kind the diff reports."""
    main = "policy/main.yaml"
    repo.edit(main, "effective: 2024-06-06", "effective: 2025-09-15")
    repo.edit(main, "  - id: standards\n    title: Standards", "  - id: core-standards\n    title: Core standards")
    repo.edit(main, "        text: Designing weapons.", "        text: Designing, building or selling weapons.\n"
                                                      "        waivable: true")
    repo.edit(main, "        obligations: [human-review]", "        obligations: [human-review, disclosure]")
    repo.edit(main, "  - id: human-review\n", "  - id: disclosure\n    title: Users are told\n  - id: human-review\n")
    repo.edit(main, "sections:\n", "sections:\n  - id: extra\n    title: Extra\n    rules:\n"
                    "      - id: extra.new-rule\n        title: A new rule\n        text: Something new.\n"
                    "        effective: 2025-09-15\n")
    gov = "exceptions/gov.yaml"
    repo.edit(gov, "review_by: 2030-06-26", "review_by: 2031-06-26")
    repo.edit(gov, "attestations: [legal-authority]", "attestations: [legal-authority, vetted-agency]")
    repo.edit(gov, "  max_asl: 2", "  max_asl: 3")
    repo.edit(gov, "purposes: [combating human trafficking]", "purposes: [combating human trafficking, counter-terrorism]")
    repo.edit("policy/models.yaml", "asl: 3", "asl: 4")
    return repo.commit("Second version")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_golden_diff_of_a_known_pair(repo, cli, fmt):
    first = repo.git.head.commit.hexsha
    second = _known_pair(repo)
    result = cli(["diff", first, second, "--root", str(repo.root), "--format", fmt])
    assert result.exit_code == 0, result.output
    output = result.output.replace(first, "FROM").replace(second, "TO")  # full ids first, then short ones
    output = output.replace(first[:12], "FROM").replace(second[:12], "TO")
    golden = GOLDEN / f"diff.{'txt' if fmt == 'text' else 'json'}"
    if os.environ.get("POLICY_REGEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(output)
    assert output == golden.read_text()


def test_diff_by_version_dates(repo):
    _known_pair(repo)
    result = diff_points(repo.root, "2024-06-06", "2025-09-15")
    assert result["summary"].startswith("main: version 2024-06-06 -> 2025-09-15")
    section = [s for s in result["sections"] if s["change"] == "renamed"]
    assert section == [{"id": "standards", "change": "renamed", "to": "core-standards",
                        "title": {"from": "Standards", "to": "Core standards",
                                  "words": [["-", "Standards"], ["+", "Core standards"]]},
                        "class": "editorial"}]
    assert not [r for r in result["rules"] if "moved" in r]  # a renamed section moves nothing


def test_published_ids_may_not_vanish_or_come_back(repo, cli):
    sha = repo.git.head.commit.hexsha
    repo.edit("policy/main.yaml", "      - id: weapons.design\n        title: Weapons\n        text: Designing weapons.\n", "")
    repo.edit("exceptions/gov.yaml", "retains: [weapons.design]", "retains: []")
    result = cli(["check", "--root", str(repo.root)])
    assert result.exit_code == 1
    assert (f"policy/main.yaml: rule 'weapons.design' was published at HEAD (commit {sha[:12]}, main version "
            f"2024-06-06) and is gone") in result.output
    repo.git.git.checkout("--", ".")
    repo.edit("policy/main.yaml", "        text: Designing weapons.\n", "        text: Designing weapons.\n"
                                                                         "        retired: 2025-01-01\n")
    assert cli(["check", "--root", str(repo.root)]).exit_code == 0  # retiring is the way
    repo.commit("Retire weapons.design")
    repo.edit("policy/main.yaml", "        retired: 2025-01-01\n", "")
    back = cli(["check", "--root", str(repo.root)])
    assert back.exit_code == 1 and "rule id 'weapons.design' was retired on 2025-01-01" in back.output
    against = cli(["check", "--root", str(repo.root), "--against", sha])
    assert against.exit_code == 0  # at the first commit it was not retired yet
    bad = cli(["check", "--root", str(repo.root), "--against", "no-such-branch"])
    assert bad.exit_code == 2


def test_build_rev_and_version_pages(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp())))
    first = repo.git.head.commit.hexsha
    _known_pair(repo)
    build(repo.root, tmp_path / "old", rev=first)
    assert "Designing weapons." in (tmp_path / "old" / "main" / "index.html").read_text()
    assert json.loads((tmp_path / "old/bundle/data.json").read_text())["revision"] == first
    build(repo.root, tmp_path / "new")
    site = tmp_path / "new"
    assert "Designing, building or selling weapons." in (site / "main" / "index.html").read_text()
    old_version = (site / "versions/main/2024-06-06/index.html").read_text()
    assert "Designing weapons." in old_version and "Superseded" in old_version
    redline = (site / "versions/main/2025-09-15/changes/index.html").read_text()
    assert "<del>Designing</del> <ins>Designing, building or selling</ins> weapons." in redline
    feed = (site / "feed.xml").read_text()
    assert feed.count("<entry>") == 3 and "version of 15 September 2025" in feed
    assert "Version history" in (site / "versions" / "index.html").read_text()


def test_build_rev_takes_what_the_working_tree_has(repo, cli, tmp_path, monkeypatch):
    """`policy build --rev` takes the files the revision shares with the working tree from the
    stage cache `policy check` left, and their bytes from the working tree: only a file that
    differs is read from git (pyproject.toml once); the site is the one a build without any
    cache makes (at 5,000 documents: 12.8 s -> 7.4 s)."""
    import filecmp

    import generator.validate as validate
    from generator.cachedir import cache_location
    from generator.validate import stagecache

    first = repo.git.head.commit.hexsha
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    assert cli(["check", "--root", str(repo.root)]).exit_code == 0
    parsed = []
    real_parse = validate._load_parsed
    monkeypatch.setattr(validate, "_load_parsed", lambda raw: parsed.append(raw.path) or real_parse(raw))
    objects, paths = _blob_reads(monkeypatch, repo)
    build(repo.root, tmp_path / "reusing", rev=first)
    assert parsed == ["policy/main.yaml"]  # as it was at the revision: the only bytes not checked
    assert [paths[o] for o in objects if o in paths] == ["policy/main.yaml"]  # once, for both uses
    (cache_location(repo.root) / stagecache.NAME).unlink()
    build(repo.root, tmp_path / "plain", rev=first)
    same = filecmp.dircmp(tmp_path / "reusing", tmp_path / "plain")
    assert not (same.diff_files or same.left_only or same.right_only)


def test_changelog_write_and_check(repo, cli):
    _known_pair(repo)
    stale = cli(["changelog", "--check", "--root", str(repo.root)])
    assert stale.exit_code == 1 and "stale" in stale.output
    assert cli(["changelog", "--root", str(repo.root)]).exit_code == 0
    text = (repo.root / "CHANGELOG.md").read_text()
    assert text.index("## [2025-09-15] Test policy") < text.index("## [2024-06-06] Test policy")
    assert "- `extra.new-rule` A new rule, in force from 2025-09-15." in text
    assert "- `weapons.design` Weapons: text reworded; waivable False -> True (looser)." in text
    assert cli(["changelog", "--check", "--root", str(repo.root)]).exit_code == 0


def test_the_repository_changelog_is_current(cli):
    with GitSources(REPO) as sources:
        if sources.shallow:
            pytest.skip("a shallow clone has no full history to compare CHANGELOG.md with")
    result = cli(["changelog", "--check", "--root", str(REPO)])
    assert result.exit_code == 0, result.output


def test_diff_of_two_commits_checks_only_what_differs(repo, cli, monkeypatch):
    """Issue 12 at scale: the two ends of a diff share what checking each file found (the
    working tree's stage cache, content-keyed, and the other end), and blobs with the working
    tree's bytes are not read from git. Only the file that differs is parsed, and the result is
    the cold diff's."""
    import generator.validate as validate
    from generator.history.gitrepo import GitSources as Sources

    first = repo.git.head.commit.hexsha
    second = _known_pair(repo)
    cold = diff_points(repo.root, first, second)
    assert cli(["check", "--root", str(repo.root)]).exit_code == 0  # the stage cache: the working tree (= second)
    parsed, read = [], []
    real_stage, real_read = validate._file_stage, Sources.files_at

    def stage(raw):
        parsed.append(raw.path)
        return real_stage(raw)

    def files_at(self, rev, known=None, blobs=None, known_ids=None):
        files, pyproject = real_read(self, rev, known, blobs, known_ids)
        read.extend(f.path for f in files if (known or {}).get(f.path) is not f.data)
        return files, pyproject

    monkeypatch.setattr(validate, "_file_stage", stage)
    monkeypatch.setattr(Sources, "files_at", files_at)
    warm = diff_points(repo.root, first, second)
    assert warm == cold
    assert sorted(parsed) == ["exceptions/gov.yaml", "policy/main.yaml", "policy/models.yaml"]  # as at `first`
    assert sorted(read) == sorted(parsed)  # nothing else read from git: the rest are the working tree's bytes
    parsed.clear()
    assert diff_points(repo.root, second, None)["summary"] == "no change to the policy"
    assert parsed == []


def test_warm_history_reads_no_blob(repo, monkeypatch):
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    cold = timeline(repo.root)
    assert (cache_folder(repo.root / ".git") / CACHE_NAME).is_file()

    def refuse(self, sha):
        raise AssertionError("a warm history must not read blobs")

    monkeypatch.setattr(GitSources, "blob", refuse)
    warm = timeline(repo.root)
    assert [(e.commit.sha, e.summary) for e in warm.entries] == [(e.commit.sha, e.summary) for e in cold.entries]


def test_history_takes_the_checked_working_tree_instead_of_parsing_the_same_bytes(repo, monkeypatch):
    """A build hands its checked files to the history (timeline's ``reuse``): the blobs whose
    bytes are the working tree's are not parsed again, and the timeline is the same. Files of a
    commit are kept while every pass over the commit needs them (a commit of many files was
    parsed two and a half times over)."""
    import shutil

    import generator.validate as validate
    from generator.cachedir import cache_folder as folder_of
    from generator.validate import check_root_cached

    first = repo.commit("The policy")  # (the base fixture)
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    parsed = []
    real = validate.model_stage_parsed

    def counting(raw):
        parsed.append(raw.path)
        return real(raw)

    monkeypatch.setattr(validate, "model_stage_parsed", counting)
    from generator.history import versions

    monkeypatch.setattr(versions._Parser, "KEEP", 1)  # as a commit of more files than it keeps
    plain = timeline(repo.root)
    assert sorted(parsed) == ["exceptions/gov.yaml", "policy/main.yaml", "policy/models.yaml"]  # once each
    # (the edited version is read from the previous one: history/incremental.py)
    stages: dict = {}
    check_root_cached(repo.root, keep=stages)
    shutil.rmtree(folder_of(repo.root / ".git"))  # no history cache: everything to read again
    parsed.clear()
    reusing = timeline(repo.root, reuse=stages)
    assert parsed == ["policy/main.yaml"]  # only its first version: the rest are the working tree's bytes
    assert [(e.commit.sha, e.summary, e.changes) for e in reusing.entries] == \
        [(e.commit.sha, e.summary, e.changes) for e in plain.entries]
    assert reusing.versions == plain.versions and first


def test_a_policy_in_a_folder_of_a_larger_repository_reuses_its_checked_files(tmp_path, monkeypatch):
    """Paths in history are relative to the policy's root, as the checked files' are: a root in a
    folder of a larger repository gets the same reuse, and the same timeline."""
    import shutil
    import subprocess

    import generator.validate as validate
    from conftest import FIXTURES
    from generator.validate import check_root_cached

    top = tmp_path / "monorepo"
    shutil.copytree(FIXTURES / "base", top / "legal")
    (top / "README.md").write_text("code and policy\n")
    git = ["git", "-C", str(top), "-c", "user.name=A", "-c", "user.email=a@example.com"]
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    main = top / "legal" / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("Designing weapons.", "Designing or building weapons."))
    subprocess.run([*git, "commit", "-q", "-am", "two"], check=True)
    root = top / "legal"
    plain = timeline(root)
    stages: dict = {}
    check_root_cached(root, keep=stages)
    shutil.rmtree(cache_folder(top / ".git"), ignore_errors=True)
    parsed = []
    real = validate.model_stage_parsed
    monkeypatch.setattr(validate, "model_stage_parsed", lambda raw: parsed.append(raw.path) or real(raw))
    reusing = timeline(root, reuse=stages)
    assert parsed == ["policy/main.yaml"]
    assert [(e.summary, e.changes) for e in reusing.entries] == [(e.summary, e.changes) for e in plain.entries]
    assert len(plain.entries) == 2 and reusing.versions == plain.versions


def test_policy_history_takes_what_policy_check_kept(repo, cli, monkeypatch):
    """`policy history` with a cold history cache reads the stage cache `policy check` left (on
    the first blob it must parse, not before): blobs with a checked file's bytes are not parsed
    again; with a warm history cache it never reads the stage cache at all."""
    import generator.validate as validate
    import generator.validate.stagecache as stagecache

    repo.commit("The policy")
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    assert cli(["check", "--root", str(repo.root)]).exit_code == 0
    (cache_folder(repo.root / ".git") / CACHE_NAME).unlink(missing_ok=True)
    parsed, loads = [], []
    real_parse, real_load = validate.model_stage_parsed, stagecache.load
    monkeypatch.setattr(validate, "model_stage_parsed", lambda raw: parsed.append(raw.path) or real_parse(raw))
    monkeypatch.setattr(stagecache, "load", lambda root: loads.append(root) or real_load(root))
    cold = cli(["history", "--root", str(repo.root)])
    assert cold.exit_code == 0 and "Edit" in cold.output
    assert parsed == ["policy/main.yaml"] and len(loads) == 1  # its first version only
    parsed.clear(), loads.clear()
    warm = cli(["history", "--root", str(repo.root)])
    assert warm.output == cold.output and parsed == [] and loads == []


def test_policy_changelog_takes_what_policy_check_kept(repo, cli, monkeypatch):
    """`policy changelog` loads the model of each version's commit: a file whose bytes `policy
    check` checked comes from the stage cache it left, not parsed again, and a blob with a
    working-tree file's bytes is not read from git (at 5,000 documents: 5.8 s -> 1.9 s)."""
    import generator.validate as validate

    repo.commit("The policy")
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    assert cli(["check", "--root", str(repo.root)]).exit_code == 0
    assert cli(["history", "--root", str(repo.root)]).exit_code == 0  # (the history cache: warm)
    parsed = []
    real_parse = validate._load_parsed
    monkeypatch.setattr(validate, "_load_parsed", lambda raw: parsed.append(raw.path) or real_parse(raw))
    objects, paths = _blob_reads(monkeypatch, repo)
    result = cli(["changelog", "--root", str(repo.root)])
    assert result.exit_code == 0, result.output
    assert "with 1 editorial revision" in (repo.root / "CHANGELOG.md").read_text()
    assert parsed == ["policy/main.yaml"]  # as it was before the edit: the only bytes not checked
    assert [paths[o] for o in objects if o in paths] == ["policy/main.yaml"]  # as before the edit


def test_rendering_never_calls_back_into_history(repo, tmp_path, monkeypatch):
    """Issue 12, gather then write: version pages gather their past sources before any page is
    rendered; once rendering starts, history is sealed and loading anything more is a bug."""
    from generator.history.changelog import Corpora

    _known_pair(repo)
    loads_while_rendering = []
    real_at = Corpora.at

    def watched(self, sha):
        if self.sealed and sha not in self.loaded:
            loads_while_rendering.append(sha)
        return real_at(self, sha)

    monkeypatch.setattr(Corpora, "at", watched)
    result = build(repo.root, tmp_path / "site")
    assert result.stats.rendered == result.stats.pages and loads_while_rendering == []
    assert (tmp_path / "site" / "versions" / "main" / "2025-09-15" / "changes" / "index.html").is_file()
    sealed = Corpora(repo.root)
    sealed.seal()
    with pytest.raises(RuntimeError, match="not gathered before rendering"):
        sealed.at(repo.git.head.commit.hexsha)


def test_a_page_diff_is_the_whole_diff_restricted_to_the_page(tmp_path):
    """Version pages diff only their own part (issue 12 at scale: 5,000 version pages each
    diffing the whole policy made `policy build` in git take many minutes). Whatever changed,
    moves between documents and renamed sections included, a page's diff is the whole diff's
    part for that page."""
    import dataclasses as dc
    import random

    from generator.history.changelog import page_diff, restrict
    from generator.history.diff import diff_corpora
    from generator.history.versions import EXCEPTIONS_PAGE
    from generator.model import Corpus
    from generator.validate import check_root

    sys.path.insert(0, str(REPO / "benchmarks"))
    from corpus import generate

    generate(tmp_path / "c", documents=6, rules=120, exceptions=10, varied=True)
    old = check_root(tmp_path / "c").corpus
    assert old is not None

    def with_sections(doc, sections):
        return dc.replace(doc, sections=tuple(sections))

    def mutate(corpus: Corpus, rng: random.Random) -> Corpus:
        docs = {d.id: d for d in corpus.documents}
        ids = sorted(docs)
        a, b = rng.sample(ids, 2)
        sa, sb = docs[a].sections[0], docs[b].sections[0]
        moved = sa.rules[0]  # a rule moved from one document to another (same id)
        sa = dc.replace(sa, rules=sa.rules[1:])
        sb = dc.replace(sb, rules=sb.rules + (dc.replace(moved, document=b, section=sb.id),))
        docs[a] = with_sections(docs[a], [sa, *docs[a].sections[1:]])
        docs[b] = with_sections(docs[b], [sb, *docs[b].sections[1:]])
        c = rng.choice(ids)  # a section renamed, its rules kept
        sec = docs[c].sections[-1]
        renamed = dc.replace(sec, id=sec.id + "-renamed", title=sec.title + " (renamed)",
                             rules=tuple(dc.replace(r, section=sec.id + "-renamed") for r in sec.rules))
        docs[c] = with_sections(docs[c], [*docs[c].sections[:-1], renamed])
        d = rng.choice(ids)  # a rule reworded, another removed
        sec = docs[d].sections[0]
        if len(sec.rules) > 2:
            sec = dc.replace(sec, rules=(dc.replace(sec.rules[0], text=sec.rules[0].text + " More."),) + sec.rules[2:])
            docs[d] = with_sections(docs[d], [sec, *docs[d].sections[1:]])
        gone = rng.choice([i for i in ids if i not in (a, b, c, d)] or [None])  # a document removed
        if gone is not None:
            del docs[gone]
        exceptions = list(corpus.exceptions)
        exceptions[0] = dc.replace(exceptions[0], title=exceptions[0].title + " (amended)")
        return Corpus.of(list(docs.values()), corpus.models, exceptions)

    rng = random.Random(7)
    for _ in range(5):
        new = mutate(old, rng)
        whole = diff_corpora(old, new)
        assert whole["rules"] and whole["sections"] and whole["exceptions"]
        pages = sorted({d.id for d in old.documents} | {d.id for d in new.documents}) + [EXCEPTIONS_PAGE]
        for before, after in ((old, new), (None, new), (new, old)):
            whole = diff_corpora(before, after)
            for page in pages:
                assert page_diff(before, after, page) == restrict(whole, page, before, after), page
        assert any(r.get("moved") for r in diff_corpora(old, new)["rules"])
        old = new


def _blob_reads(monkeypatch, repo) -> tuple[list[str], dict[str, str]]:
    """The ids of the git objects read whole, as GitPython's object database reads them (files_at
    and Object.data_stream both do), and a map from every blob id in the history to its path."""
    from git.db import GitCmdObjectDB

    read: list[str] = []
    real = GitCmdObjectDB.stream
    monkeypatch.setattr(GitCmdObjectDB, "stream", lambda self, binsha: read.append(binsha.hex()) or real(self, binsha))
    paths = {}
    for sha in repo.git.git.rev_list("--all").split():
        for line in repo.git.git.ls_tree("-r", sha).splitlines():
            meta, path = line.split("\t", 1)
            paths[meta.split()[2]] = path
    return read, paths


def test_models_at_many_commits_read_each_blob_once(repo, monkeypatch):
    """A site's version pages load the model at many commits, which share most of their files:
    each blob is read from git once (at 5,000 documents, reading every file at each of 22
    commits was two thirds of `policy changelog`), and a blob with a working tree file's bytes
    is not read from git at all (the working tree here is the last commit)."""
    from collections import OrderedDict

    from generator.history import gitrepo
    from generator.history.changelog import Corpora

    shas = [repo.git.head.commit.hexsha]
    for word in ("building", "selling"):
        repo.edit("policy/main.yaml", "Designing", f"Designing or {word}")
        shas.append(repo.commit(f"Edit: {word}"))
    objects, _paths = _blob_reads(monkeypatch, repo)
    monkeypatch.setattr(gitrepo, "_TREES", OrderedDict())  # (listings other tests left: the same trees)
    corpora = Corpora(repo.root)
    models = [corpora.at(sha) for sha in shas]
    assert all(m is not None for m in models)

    def blobs(sha):
        return {line.split()[2] for line in repo.git.git.ls_tree("-r", sha, "policy", "exceptions").splitlines()}

    listed = set().union(*map(blobs, shas))
    read = [sha for sha in objects if sha in listed]  # (commits and trees are read too)
    assert len(read) == len(set(read))  # no blob read twice
    assert set(read) == listed - blobs(shas[-1])  # every other blob of the three commits, once
    assert read  # (the first two commits' main.yaml)
    exceptions_tree = repo.git.git.rev_parse(f"{shas[0]}:exceptions")  # the same in the three commits
    assert objects.count(exceptions_tree) == 1  # listed once (gitrepo._TREES), not once per commit
    assert [r.text for r in (m.rules["weapons.design"] for m in models)] == [
        "Designing weapons.", "Designing or building weapons.", "Designing or selling or building weapons."]


def _renamed_pairwise(old, new):
    """The pair-by-pair matching _renamed_sections replaced (kept here as the reference)."""
    gone = [s for s in old.sections.values() if s.id not in new.sections]
    fresh = [s for s in new.sections.values() if s.id not in old.sections]
    mapping = {}
    for o in gone:
        o_rules = {r.id for r in o.rules}
        best, score = None, 0.0
        for n in fresh:
            if n.id in mapping.values():
                continue
            n_rules = {r.id for r in n.rules}
            if o_rules and n_rules:
                overlap = len(o_rules & n_rules) / len(o_rules | n_rules)
            else:
                overlap = 1.0 if o.title == n.title else 0.0
            if overlap > score:
                best, score = n, overlap
        if best is not None and score >= 0.5:
            mapping[o.id] = best.id
    return mapping


def test_renamed_sections_match_the_pairwise_reference_on_random_restructurings():
    import random
    from types import SimpleNamespace as NS

    from generator.history.diff import _renamed_sections

    rng = random.Random(3)
    for _ in range(400):
        rules = [NS(id=f"r{i}") for i in range(rng.randint(0, 30))]
        titles = ["A", "B", "C", "D"]

        def sections(prefix):
            out = {}
            for i in range(rng.randint(0, 8)):
                own = tuple(rng.sample(rules, rng.randint(0, min(4, len(rules))))) if rng.random() < 0.8 else ()
                sid = f"{prefix if rng.random() < 0.6 else 'same'}-{i}"
                out[sid] = NS(id=sid, title=rng.choice(titles), rules=own)
            return out

        old, new = NS(sections=sections("old")), NS(sections=sections("new"))
        assert _renamed_sections(old, new) == _renamed_pairwise(old, new)


def test_models_at_commits_read_a_document_from_its_last_version(repo, monkeypatch):
    """The models at many commits (changelog, version pages) read a document whose commit
    changed only its rules from its last version, as the history does (history/incremental.py),
    and do not parse a prose field they have checked already: the models, and which commits
    validate (an unsafe link, a link to no rule), are exactly those of checking each commit on
    its own, and the document is parsed whole once (1,000 commits over 10,000 rules: the
    changelog 7.5 s -> 5.6 s, 567 MB -> 294 MB)."""
    import generator.validate as validate
    from generator.history import check_revision
    from generator.history.changelog import Corpora

    steps = [("Designing weapons.", "Designing or building weapons."),
             ("building weapons.", "building weapons. See [legal](#high-risk.legal)."),
             ("See [legal](#high-risk.legal).", "See [a script](javascript:alert(1))."),
             ("See [a script](javascript:alert(1)).", "See [nothing](#no-such-rule)."),
             ("See [nothing](#no-such-rule).", "See [weapons](#weapons.design).")]
    shas = [repo.git.head.commit.hexsha]
    for old, new in steps:
        repo.edit("policy/main.yaml", old, new)
        shas.append(repo.commit(f"Edit: {new}"))
    alone = []
    for sha in shas:
        result = check_revision(repo.root, sha)
        alone.append(None if result.errors else result.corpus)
    assert [m is None for m in alone] == [False, False, False, True, True, False]
    parsed = []
    real = validate.file_stage_parsed
    monkeypatch.setattr(validate, "file_stage_parsed", lambda raw, memo=None: parsed.append(raw.path) or real(raw, memo))
    import generator.history.changelog as changelog

    opened = []
    real_sources = changelog.GitSources
    monkeypatch.setattr(changelog, "GitSources", lambda root: opened.append(root) or real_sources(root))
    corpora = Corpora(repo.root)
    assert [corpora.at(sha) for sha in shas] == alone
    assert parsed.count("policy/main.yaml") == 1  # the first version; the others from the one before
    assert len(opened) == 1  # one repository (and its git processes) for every commit
    corpora.close()


def test_a_build_in_git_checks_each_file_once(repo, tmp_path, monkeypatch):
    """The version pages need the model at past commits; the files a commit shares with the
    working tree come from the working tree's check (the same objects: no second parse, no
    second copy in memory)."""
    import generator.validate as validate
    from generator.build import build

    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit")
    staged = []
    real_parsed = validate.file_stage_parsed  # (every file's stage: the working tree's and the commits')
    monkeypatch.setattr(validate, "file_stage_parsed",
                        lambda raw, memo=None: staged.append((raw.path, raw.data)) or real_parsed(raw, memo))
    build(repo.root, tmp_path / "site", pdf=False)
    assert len(staged) == len(set(staged))  # no file's bytes checked twice
    assert len({data for path, data in staged if path == "policy/main.yaml"}) == 2  # the edit's two versions


def test_the_feed_and_sitemap_stay_well_formed_xml_whatever_the_base_address():
    """A base address is only checked to be absolute http(s): a '"' or '&' in it must not break
    the feed's attributes or the sitemap."""
    import xml.etree.ElementTree as ET

    from generator.config import Settings
    from generator.render.history_pages import feed
    from generator.render import xmltext

    base = 'https://example.com/a"b&c<d>/'
    root = ET.fromstring(feed(None, None, Settings(base_url=base, organization='R&D "Policies" <x>')))
    atom = "{http://www.w3.org/2005/Atom}"
    assert root.find(f"{atom}link[@rel='self']").get("href") == base + "feed.xml"
    assert root.find(f"{atom}title").text == 'R&D "Policies" <x> policy versions'
    assert xmltext.text('a & <b> "c"') == 'a &amp; &lt;b&gt; "c"'
    assert xmltext.attr('a & <b> "c"') == "a &amp; &lt;b&gt; &quot;c&quot;"
