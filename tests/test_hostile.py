"""No traceback anywhere: every command of the CLI, in hostile situations (broken history, an
unreadable cache, an output folder that cannot be written, a full disk, no git on PATH, no git
repository, no policy at all), ends with a message and exit code 0, 1 or 2, never a Python
traceback. Each situation runs in a process of its own (tests/hostile_driver.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, Repo, build_root
from generator.cachedir import cache_folder
from generator.history.versions import CACHE_NAME

DRIVER = Path(__file__).parent / "hostile_driver.py"


def commands(root: Path, out: Path, work: Path) -> list[list[str]]:
    requests = work / "requests.jsonl"
    requests.write_text('{"use": "weapons.design"}\nnot json\n[1]\n')
    log = work / "decisions.jsonl"
    log.write_text('{"timestamp": "2025-01-01T00:00:00Z", "result": {"allowed": true}}\ngarbage\n')
    r, o = str(root), str(out)
    return [
        ["--version"],
        ["check", "--root", r], ["check", "--root", r, "--strict", "--format", "json"],
        ["check", "--root", r, "--against", "HEAD~1"],
        ["build", "--root", r, "--out", o], ["build", "--root", r, "--out", o, "--rev", "HEAD~1"],
        ["decide", "--bundle", str(out / "bundle"), "--input", str(requests)],
        ["decide", "--bundle", str(REPO / "tests"), "--input", str(requests)],
        ["history", "--root", r], ["history", "--root", r, "--format", "json"],
        ["diff", "--root", r], ["diff", "HEAD~1", "HEAD", "--root", r, "--format", "json"],
        ["diff", "HEAD~1", "HEAD", "--root", r, "--format", "markdown"],
        ["due", "--root", r], ["due", "--root", r, "--within", "30d", "--format", "json"],
        ["fmt", "--root", r, "--check"], ["codeowners", "--root", r],
        ["translations", "--root", r], ["translations", "--root", r, "--format", "json", "--strict"],
        ["translations", "--root", r, "--update", "de"],
        ["changelog", "--root", r], ["changelog", "--check", "--root", r],
        ["new", "exception", "hostile-check", "--root", r],
        ["keygen", str(work / "keys")],
        ["report", str(log)], ["report", str(work / "no-such-log.jsonl")],
    ]


def _repo_with_a_broken_past(path: Path) -> Path:
    repo = Repo(path)
    repo.commit("First")
    gov = repo.root / "exceptions" / "gov.yaml"
    good = gov.read_text()
    gov.write_text(good + "id: [broken\n")
    repo.commit("Broken")
    gov.write_text(good)
    repo.commit("Fixed")
    repo.git.close()
    return repo.root


def _situations(tmp: Path) -> dict[str, dict]:
    out = {}
    # a history with a broken commit in it, and sources broken in the working tree now
    root = _repo_with_a_broken_past(tmp / "broken-history")
    out["broken history"] = {"root": root}
    root = _repo_with_a_broken_past(tmp / "broken-now")
    (root / "policy" / "main.yaml").write_text("id: [\n")
    out["broken working tree"] = {"root": root}
    # the history cache is a folder where its file should be
    root = _repo_with_a_broken_past(tmp / "cache")
    (cache_folder(root / ".git") / CACHE_NAME).mkdir(parents=True)  # where the child will look (same env)
    out["unreadable cache"] = {"root": root}
    # an output folder that cannot be written: a read-only file system where one can be mounted,
    # and in any case a path whose parent is a file
    root = _repo_with_a_broken_past(tmp / "readonly")
    mount = tmp / "ro-mount"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(mount)],
                             capture_output=True).returncode == 0
    out["read-only output"] = {"root": root, "out": mount / "site" if mounted else tmp / "a-file" / "site",
                               "mounted": mount if mounted else None}
    (tmp / "a-file").write_text("not a folder")
    # a full disk: no file may grow past 4 KB (the pages are larger)
    root = _repo_with_a_broken_past(tmp / "full")
    out["full disk"] = {"root": root, "fsize": 4_000}
    # no git on PATH (GitPython refuses to import without it)
    root = _repo_with_a_broken_past(tmp / "nogit")
    empty_path = tmp / "empty-bin"
    empty_path.mkdir()
    out["no git on PATH"] = {"root": root, "env": {"PATH": str(empty_path)}}
    # translations that are not what they should be: binary, not UTF-8, a bad tag, a folder
    # named .po, a catalog linking nowhere
    root = _repo_with_a_broken_past(tmp / "translations")
    for folder in ("de", "fr", "english"):
        (root / "translations" / folder).mkdir(parents=True)
    (root / "translations" / "de" / "main.po").write_bytes(bytes(range(256)) * 8)
    (root / "translations" / "fr" / "main.po").write_bytes('msgctxt "document:title"\nmsgid "x"\nmsgstr "\xe9"\n'.encode("latin-1"))
    (root / "translations" / "fr" / "exceptions.po").mkdir()
    (root / "translations" / "english" / "main.po").write_text('msgid "a"\nmsgstr "b"\n')
    out["broken translations"] = {"root": root}
    # not a git repository; and no policy at all
    out["not a git repository"] = {"root": build_root(tmp / "plain")}
    (tmp / "nothing").mkdir()
    out["no policy here"] = {"root": tmp / "nothing"}
    return out


@pytest.fixture(scope="module")
def situations(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    found = _situations(tmp)
    yield found, tmp
    for situation in found.values():
        if situation.get("mounted"):
            subprocess.run(["umount", str(situation["mounted"])], capture_output=True)


SITUATIONS = ["broken history", "broken working tree", "unreadable cache", "read-only output", "full disk",
              "no git on PATH", "not a git repository", "no policy here", "broken translations"]


@pytest.mark.parametrize("name", SITUATIONS)
def test_no_command_ends_in_a_traceback(situations, name):
    found, tmp = situations
    situation = found[name]
    work = tmp / f"work-{name.replace(' ', '-')}"
    work.mkdir()
    out = situation.get("out", work / "site")
    (work / "commands.json").write_text(json.dumps(commands(situation["root"], out, work)))
    env = dict(os.environ, **situation.get("env", {}))
    args = [sys.executable, str(DRIVER), str(work / "commands.json")]
    if situation.get("fsize"):
        args += ["--fsize", str(situation["fsize"])]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=work, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)["results"]
    crashed = [(r["args"], r["traceback"][-1500:]) for r in results if r["traceback"]]
    assert crashed == []
    assert all(r["code"] in (0, 1, 2) for r in results), [(r["args"], r["code"]) for r in results]
    for command, code, words in EXPECTED.get(name, ()):
        result = next(r for r in results if " ".join(r["args"]).startswith(command))
        assert result["code"] == code and words in result["stderr"] + result["stdout"], (command, result)


# What each situation must say, beyond "no traceback" (first command whose arguments start so).
EXPECTED = {
    "broken translations": [("check --root", 1, "is not UTF-8"), ("build --root", 1, "nothing was written"),
                            ("translations --root", 1, "'english' is not a language tag")],
    "broken history": [("history --root", 0, ""), ("build --root", 0, ""), ("check --root", 0, "")],
    "broken working tree": [("check --root", 1, "malformed YAML"), ("build --root", 1, "nothing was written"),
                            ("history --root", 0, "")],
    "unreadable cache": [("history --root", 0, ""), ("build --root", 0, "")],
    "read-only output": [("build --root", 2, "policy: ")],
    "full disk": [("build --root", 2, "a full disk or a file size limit")],
    "no git on PATH": [("check --root", 0, "git is not available"), ("build --root", 0, ""),
                       ("history --root", 2, "the git command is not installed")],
    "not a git repository": [("check --root", 0, "not a git repository"),
                             ("history --root", 2, "is not inside a git repository")],
    "no policy here": [("new exception", 2, "no policy/ folder here")],
}


def test_preview_of_a_folder_that_is_not_a_policy_exits_cleanly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "generator", "preview", "--root", str(tmp_path / "missing"),
                           "--port", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
