"""History as real repositories hold it: broken commits fixed later, broken merges, reverts of a
published version, rewritten history under the cache, shallow clones, a detached HEAD, odd
paths, and sources moved in the repository. Every command goes on; nothing crashes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from conftest import Repo
from generator.build import build
from generator.cachedir import cache_folder
from generator.history.versions import CACHE_NAME, timeline

GOV = "exceptions/gov.yaml"


def _entries(root):
    line = timeline(root, as_of=dt.date(2025, 1, 1))
    return line, [(e.commit.subject, e.invalid, e.changes, e.summary) for e in line.entries]


def _break(repo: Repo, message: str = "Typo") -> str:
    path = repo.root / GOV
    path.write_text(path.read_text() + "id: [broken\n")
    return repo.commit(message)


def test_a_broken_commit_fixed_by_the_next_one(repo, tmp_path, cli):
    _break(repo)
    repo.git.git.revert("--no-edit", "HEAD")
    line, got = _entries(repo.root)
    assert [g[0] for g in got] == ["First version", "Typo", 'Revert "Typo"']
    subject, invalid, changes, _ = got[1]
    assert invalid is not None and invalid.startswith(f"{GOV}:18:") and changes == []
    assert got[2][1:] == (None, [], "no change to the policy")  # back to the last valid state
    assert [v.label for v in line.versions["exceptions"]] == ["2024-06-26"]  # no version from the typo
    # the build goes on, and its version pages show the valid state
    result = cli(["build", "--root", str(repo.root), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "versions" / "exceptions" / "2024-06-26" / "index.html").read_text()
    assert "combating human trafficking" in page
    text = cli(["history", "--root", str(repo.root)]).output
    assert "not a published state" in text and f"{GOV}:18:" in text
    data = json.loads(cli(["history", "--root", str(repo.root), "--format", "json"]).output)
    assert [e["invalid"] is not None for e in data["entries"]] == [False, True, False]
    assert cli(["changelog", "--check", "--root", str(repo.root)]).exit_code in (0, 1)
    assert cli(["diff", "HEAD~2", "HEAD", "--root", str(repo.root)]).exit_code == 0


def test_a_broken_state_then_an_edit_elsewhere_then_the_fix(repo):
    _break(repo)
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Edit the policy while the exception is still broken")
    path = repo.root / GOV
    path.write_text(path.read_text().replace("id: [broken\n", "").replace("human trafficking", "trafficking"))
    repo.commit("Fix the exception and reword it")
    line, got = _entries(repo.root)
    assert [g[1] is not None for g in got] == [False, True, True, False]
    # the fix is compared with the last valid state, so it carries both changes
    assert got[3][3] == "exception gov: permitted rules or purposes changed; 1 rule changed"
    assert [(v.label, len(v.revisions)) for v in line.versions["main"]] == [("2024-06-06", 1)]


def test_a_broken_commit_on_a_merged_branch(repo):
    repo.git.git.checkout("-b", "draft")
    _break(repo, "Broken on the branch")
    path = repo.root / GOV
    path.write_text(path.read_text().replace("id: [broken\n", ""))
    repo.commit("Fixed on the branch")
    repo.git.git.checkout("main")
    repo.git.git.merge("draft", "--no-ff", "-m", "Merge the draft")
    line, got = _entries(repo.root)
    assert [g[0] for g in got] == ["First version"]  # first parent: the branch's broken state never was main's
    # a branch merged while broken: the merge is not a published state, the fix after it is
    repo.git.git.checkout("-b", "broken")
    _break(repo, "Broken again")
    repo.git.git.checkout("main")
    repo.git.git.merge("broken", "--no-ff", "-m", "Merge the broken branch")
    path.write_text(path.read_text().replace("id: [broken\n", ""))
    repo.commit("Fix after the merge")
    line, got = _entries(repo.root)
    assert [(g[0], g[1] is not None) for g in got] == [("First version", False), ("Merge the broken branch", True),
                                                        ("Fix after the merge", False)]


def test_a_revert_of_a_published_version(repo, tmp_path):
    repo.edit("policy/main.yaml", "effective: 2024-06-06", "effective: 2025-09-15")
    repo.commit("Version of 15 September 2025")
    repo.git.git.revert("--no-edit", "HEAD")
    line, got = _entries(repo.root)
    labels = [v.label for v in line.versions["main"]]
    assert labels[:2] == ["2024-06-06", "2025-09-15"] and len(labels) == 3
    assert len(set(labels)) == 3, "two versions may not share a page address"
    result = build(repo.root, tmp_path / "site")
    assert result.stats.pages > 0
    for label in labels:
        assert (tmp_path / "site" / "versions" / "main" / label / "index.html").is_file()


def test_history_rewritten_under_the_cache(repo):
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("To be rewritten")
    before = [e.summary for e in timeline(repo.root).entries]
    cache = cache_folder(repo.root / ".git") / CACHE_NAME
    assert cache.is_file()
    repo.git.git.reset("--hard", "HEAD~1")  # as a force push does to a clone
    repo.edit(GOV, "review_by: 2030-06-26", "review_by: 2031-06-26")
    repo.commit("The rewritten change")
    after = timeline(repo.root)
    assert [e.commit.subject for e in after.entries] == ["First version", "The rewritten change"]
    assert [e.summary for e in after.entries] != before
    cache.unlink()
    assert [e.summary for e in timeline(repo.root).entries] == [e.summary for e in after.entries]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "tampered", "wrong shapes"])
def test_a_damaged_cache_is_recomputed_never_trusted(repo, damage):
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Second")
    good = [(e.summary, e.changes) for e in timeline(repo.root).entries]
    cache = cache_folder(repo.root / ".git") / CACHE_NAME
    envelope = json.loads(cache.read_text())
    body = json.loads(envelope["body"])
    if damage == "garbage":
        cache.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        cache.write_text(cache.read_text()[: len(cache.read_text()) // 2])
    elif damage == "foreign":
        envelope["tool"] = "9.9.9"
        cache.write_text(json.dumps(envelope))
    else:
        for blob in body["blobs"]:
            body["blobs"][blob] = ({"kind": "document", "id": "main", "effective": "1999-01-01", "title": "Forged"}
                                   if damage == "tampered" else {"kind": 7})
        for pair in body["pairs"]:
            body["pairs"][pair] = "forged summary"
        envelope["body"] = json.dumps(body)  # hash left as it was: tampering shows
        if damage == "wrong shapes":
            import hashlib

            envelope["sha256"] = hashlib.sha256(envelope["body"].encode()).hexdigest()
            for pair in body["pairs"]:
                body["pairs"][pair] = None  # a summary must be text
            envelope["body"] = json.dumps(body)
            envelope["sha256"] = hashlib.sha256(envelope["body"].encode()).hexdigest()
        cache.write_text(json.dumps(envelope))
    assert [(e.summary, e.changes) for e in timeline(repo.root).entries] == good
    json.loads(cache.read_text())  # rewritten whole


def test_two_builds_at_once_leave_a_whole_cache(repo, tmp_path):
    for n in range(5):
        repo.edit("policy/main.yaml", "title: Weapons" if n == 0 else f"title: Weapons {n - 1}", f"title: Weapons {n}")
        repo.commit(f"Edit {n}")
    cache = cache_folder(repo.root / ".git") / CACHE_NAME
    runs = [subprocess.Popen([__import__("sys").executable, "-m", "generator", "history", "--root", str(repo.root)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    for run in runs:
        assert run.wait() == 0, run.stderr.read().decode()
    envelope = json.loads(cache.read_text())
    import hashlib

    assert envelope["sha256"] == hashlib.sha256(envelope["body"].encode()).hexdigest()
    assert not [p for p in cache.parent.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("depth", [1, 5])
def test_shallow_clones(repo, tmp_path, cli, depth):
    for n in range(6):
        repo.edit("policy/main.yaml", "title: Weapons" if n == 0 else f"title: Weapons {n - 1}", f"title: Weapons {n}")
        repo.commit(f"Edit {n}")
    clone = tmp_path / f"depth-{depth}"
    subprocess.run(["git", "clone", "-q", "--depth", str(depth), f"file://{repo.root}", str(clone)], check=True)
    result = cli(["history", "--root", str(clone)])
    assert result.exit_code == 0 and "shallow clone" in result.output
    assert result.output.count("Edit ") == depth
    built = cli(["build", "--root", str(clone), "--out", str(tmp_path / f"site-{depth}")])
    assert built.exit_code == 0, built.output
    versions = (tmp_path / f"site-{depth}" / "versions" / "index.html").read_text()
    assert "incomplete" in versions and "shallow clone" in versions


def test_detached_head(repo, tmp_path, cli):
    first = repo.git.head.commit.hexsha
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Second")
    repo.git.git.checkout(first)  # detached
    result = cli(["history", "--root", str(repo.root)])
    assert result.exit_code == 0 and "Second" not in result.output
    assert cli(["build", "--root", str(repo.root), "--out", str(tmp_path / "site")]).exit_code == 0
    assert cli(["diff", "HEAD", "main", "--root", str(repo.root)]).exit_code == 0


def test_a_path_with_spaces_and_non_ascii_characters(tmp_path, cli):
    r = Repo(tmp_path / "Politique d’usage – été 2025")
    r.commit("Première version")
    r.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    r.commit("Deuxième")
    out = tmp_path / "site à publier"
    for args in (["history"], ["diff", "HEAD~1", "HEAD"], ["check"], ["build", "--out", str(out)]):
        result = cli([*args, "--root", str(r.root)])
        assert result.exit_code == 0, (args, result.output)
    assert (out / "versions" / "index.html").is_file()
    r.git.close()


def test_sources_moved_into_another_folder_of_the_repository(repo, tmp_path, cli):
    (repo.root / "legal").mkdir()
    for name in ("policy", "exceptions"):
        repo.git.git.mv(name, f"legal/{name}")
    repo.commit("Move the policy under legal/")
    root = repo.root / "legal"
    line = timeline(root)
    assert [e.commit.subject for e in line.entries] == ["Move the policy under legal/"]
    result = cli(["history", "--root", str(root)])
    assert result.exit_code == 0 and "Move the policy" in result.output
    assert cli(["build", "--root", str(root), "--out", str(tmp_path / "site")]).exit_code == 0
