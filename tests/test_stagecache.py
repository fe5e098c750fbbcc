"""The per-file stage cache between commands: same results as checking from scratch, only
changed files checked again, never trusted when damaged."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO
from generator.validate import check_root, check_root_cached, stagecache

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402


@pytest.fixture
def corpus_root(tmp_path):
    root = tmp_path / "corpus"
    generate(root, documents=6, rules=120, exceptions=12, varied=True)
    return root


def test_cached_results_equal_a_check_from_scratch(corpus_root, monkeypatch):
    stagecache._check_layout()
    cold = check_root_cached(corpus_root)
    assert stagecache.load(corpus_root)  # written
    calls = []
    import generator.validate as validate

    real = validate._file_stage
    monkeypatch.setattr(validate, "_file_stage", lambda raw: calls.append(raw.path) or real(raw))
    warm = check_root_cached(corpus_root)
    assert calls == []  # nothing parsed again
    assert warm.corpus == cold.corpus and warm.diagnostics == cold.diagnostics
    assert warm.corpus == check_root(corpus_root).corpus
    # what equality leaves out: positions and severities come back too
    assert [d.severity for d in warm.diagnostics] == [d.severity for d in cold.diagnostics]
    nested = 0
    for before, after in ((cold.corpus.rules, warm.corpus.rules),
                          (cold.corpus.exceptions_by_id, warm.corpus.exceptions_by_id),
                          (cold.corpus.documents_by_id, warm.corpus.documents_by_id)):
        assert before.keys() == after.keys()
        for key in before:
            was, now = before[key].positions, after[key].positions
            assert dict(was) == dict(now), key
            for name, inner in was._data.items():  # one level down: "models.max_asl", "retains[0]"
                subs = [f"{name}.{k}" for k in getattr(inner, "value_pos", ())] + \
                    [f"{name}[{i}]" for i in range(len(getattr(inner, "item_pos", ())))]
                assert [was[s] for s in subs] == [now[s] for s in subs], key
                nested += len(subs)
    assert nested > 100
    doc = corpus_root / "policy" / "doc-001.yaml"
    doc.write_text(doc.read_text().replace("title: Part 1 of document 1", "title: Part one of document 1"))
    calls.clear()
    edited = check_root_cached(corpus_root)
    assert calls == ["policy/doc-001.yaml"]  # only the edited file
    assert edited.corpus == check_root(corpus_root).corpus
    # errors found in a cached stage keep their positions
    doc.write_text(doc.read_text().replace("effect: prohibit", "effect: forbid", 1))
    first = check_root_cached(corpus_root).errors
    assert first and first == check_root_cached(corpus_root).errors == check_root(corpus_root).errors


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "other version"])
def test_a_damaged_stage_cache_is_ignored(corpus_root, damage):
    check_root_cached(corpus_root)
    path = stagecache.cache_location(corpus_root) / stagecache.NAME
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n")
    if damage == "garbage":
        path.write_bytes(b"\xff\x00garbage")
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "tampered":
        path.write_bytes(head + b"\n" + body.replace(b"Part 1", b"Part X"))
    else:
        path.write_bytes(head.replace(b'"tool":"', b'"tool":"9.') + b"\n" + body)
    assert stagecache.load(corpus_root) == {}
    assert check_root_cached(corpus_root).corpus == check_root(corpus_root).corpus


@pytest.mark.parametrize("helper", ["works", "fails", "garbles"])
def test_files_checked_by_a_forked_helper_give_the_same_result(corpus_root, monkeypatch, helper):
    """A cold check of many files shares them with a forked process (validate/shared.py); the
    corpus, its positions and every diagnostic are those of one process, also when the helper
    fails or sends something unreadable (this process then checks those files itself)."""
    import os

    import generator.validate.shared as shared

    bad = corpus_root / "policy" / "doc-002.yaml"  # an error, so that diagnostics travel too
    bad.write_text(bad.read_text().replace("effect: prohibit", "effect: forbid", 1))
    alone = check_root(corpus_root)
    parent = os.getpid()
    real_encode = stagecache.encode
    if helper == "fails":
        monkeypatch.setattr(stagecache, "encode", lambda stages: os._exit(3) if os.getpid() != parent
                            else real_encode(stages))
    elif helper == "garbles":
        monkeypatch.setattr(stagecache, "encode", lambda stages: b'[["x"]]' if os.getpid() != parent
                            else real_encode(stages))
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(shared.os, "fork", lambda: forks.append(1) or real_fork())
    monkeypatch.setattr(shared, "SHARED_MIN_FILES", 2)
    together = check_root(corpus_root)
    assert forks == [1]
    assert together.corpus == alone.corpus and together.diagnostics == alone.diagnostics
    assert [d.severity for d in together.diagnostics] == [d.severity for d in alone.diagnostics]
    assert together.errors and together.errors == alone.errors
    rules = together.corpus.rules
    assert all(dict(rules[r].positions) == dict(alone.corpus.rules[r].positions) for r in rules)


def test_load_corpus_and_a_strict_build_take_unchanged_files_from_the_cache(root, tmp_path, cli, monkeypatch):
    """Every command that checks the working tree keeps and reuses the stage cache: `policy
    build --strict` used to check every file twice (once uncached, then again in the build), and
    `policy codeowners` (load_corpus) once more on every run."""
    import generator.validate as validate
    from generator.validate import load_corpus

    staged = []
    real = validate._file_stage
    monkeypatch.setattr(validate, "_file_stage", lambda raw: staged.append(raw.path) or real(raw))
    first = load_corpus(root)
    assert staged  # cold: the files were checked
    staged.clear()
    assert load_corpus(root) == first and staged == []  # warm: none checked again
    assert cli(["build", "--strict", "--no-pdf", "--root", str(root), "--out", str(tmp_path / "site")]).exit_code == 0
    assert staged == []


def test_a_build_writes_the_cache_back_in_a_helper_and_when_it_fails(corpus_root, tmp_path, monkeypatch):
    """build() writes the stage cache back from a forked helper while it plans and renders
    (check_root_cached later=..., build._in_background), waits for it, writes it even when the
    sources turn out invalid, and writes it itself when the helper fails."""
    import os

    from generator import build as build_module
    from generator.build import build
    from generator.errors import ValidationFailed

    savers = tmp_path / "savers"
    real_save = stagecache.save

    def save(*args):
        with open(savers, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        real_save(*args)

    monkeypatch.setattr(stagecache, "save", save)
    build(corpus_root, tmp_path / "site", pdf=False)
    assert savers.read_text().split() != [str(os.getpid())]  # saved, by another process
    assert len(stagecache.load(corpus_root)) == len(list(corpus_root.rglob("*.yaml")))
    doc = corpus_root / "policy" / "doc-001.yaml"
    doc.write_text(doc.read_text().replace("effect: prohibit", "effect: maybe", 1))
    savers.unlink()
    with pytest.raises(ValidationFailed):
        build(corpus_root, tmp_path / "site", pdf=False)
    assert len(savers.read_text().split()) == 1  # no site written, the cache still is
    calls = []
    import generator.validate as validate

    real = validate._file_stage
    monkeypatch.setattr(validate, "_file_stage", lambda raw: calls.append(raw.path) or real(raw))
    check_root_cached(corpus_root)
    assert calls == []
    # a helper that cannot be made: the build saves the cache itself
    monkeypatch.setattr(build_module, "fork_sending", lambda produce: (_ for _ in ()).throw(OSError("no fork")))
    doc.write_text(doc.read_text().replace("effect: maybe", "effect: prohibit", 1))
    savers.unlink()
    build(corpus_root, tmp_path / "site", pdf=False)
    assert savers.read_text().split() == [str(os.getpid())]
