"""Versions read incrementally (history/incremental.py) are exactly what reading the whole file
gives, or are not made at all: compared on thousands of generated edits, and through a history
walk on a real repository with and without the incremental reading."""

from __future__ import annotations

import random
import sys

from conftest import REPO
from generator.history import incremental
from generator.load import KIND_DOCUMENT, PosDict, PosList, RawFile
from generator.validate import model_stage_parsed

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402

PATH = "policy/doc.yaml"

NESTED = """# a hand-written document: nested sections, lists at their key's column, comments, flow items
id: doc
title: Nested
effective: 2025-01-01
sections:
- id: doc.a
  title: A
  rules:
  - id: doc.a.one
    title: One
    text: "Quoted
      over two lines."
    effect: prohibit
  # a comment between rules, at the list's column
  - id: doc.a.two
    title: Two
    text: >
      Folded
      text.
  - {id: doc.a.flow, title: Flow, text: On one line}
  sections:
    - id: doc.a.inner
      title: Inner
      rules:
        - id: doc.a.inner.one
          title: Inner one
          text: |
            Kept
            lines.
          waivable: true
          effect: prohibit
        - id: doc.a.inner.two
          title: Inner two
          text: Plain text
- id: doc.b
  title: B
  rules:
    - id: doc.b.last
      title: Last
      text: The very last rule.
"""


def _full(text: str):
    obj, error, parsed = model_stage_parsed(RawFile(PATH, KIND_DOCUMENT, text.encode()))
    return obj, (parsed.value if parsed is not None and error is None else None)


def _same(a, b) -> bool:
    if isinstance(a, PosDict):
        return (isinstance(b, PosDict) and a.pos == b.pos and a.key_pos == b.key_pos and a.value_pos == b.value_pos
                and list(a) == list(b) and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, PosList):
        return (isinstance(b, PosList) and a.pos == b.pos and a.item_pos == b.item_pos and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def _rules(document):
    def walk(sections):
        for s in sections:
            yield from s.rules
            yield from walk(s.sections)
    return list(walk(document.sections))


def _edits(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    n = rng.randrange(len(lines))
    line = lines[n]
    kind = rng.randrange(14)
    if kind <= 4 and line.strip():  # reword in place, the common case
        lines[n] = line + rng.choice([" More words.", "s", " (amended)", ""])
    elif kind == 5:
        lines[n] = line.replace("id: ", "id: x", 1)
    elif kind == 6:
        lines[n] = line + ' "unclosed'
    elif kind == 7:
        lines[n] = line.lstrip(" ")  # dedented
    elif kind == 8:
        lines[n] = line + " TODO"
    elif kind == 9:
        lines[n] = line.replace("prohibit", "forbid")
    elif kind == 10:
        lines.insert(n, line)  # a line more
    elif kind == 11:
        lines[n] = line.replace(": ", ": &anchor ", 1)
    elif kind == 12:
        lines[n] = line.replace("title:", "text:", 1)  # a duplicate key
    else:
        lines[n] = (line[: len(line) - len(line.lstrip())] + "# " + line.lstrip()) if line.strip() else "\t"
    return "\n".join(lines)


def _check_chain(text: str, steps: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    obj, value = _full(text)
    assert obj is not None
    known = incremental.remember(text, value, obj)
    used = declined = 0
    for _ in range(steps):
        new = text
        for _ in range(rng.choice([1, 1, 2, 3])):
            new = _edits(new, rng)
        newer = incremental.update(known, PATH, new) if known is not None else None
        full_obj, full_value = _full(new)
        if newer is not None:
            used += 1
            assert full_obj is not None, "read incrementally a text that does not validate"
            assert _same(newer.value, full_value)
            assert newer.document == full_obj
            for mine, theirs in zip(_rules(newer.document), _rules(full_obj)):
                assert mine.origin == theirs.origin and dict(mine.positions) == dict(theirs.positions)
            assert dict(newer.document.positions) == dict(full_obj.positions)
        else:
            declined += 1
        if full_obj is not None and "&" not in new:  # walk on, from the reading the caller would keep
            text, known = new, newer or incremental.remember(new, full_value, full_obj)
    return used, declined


def test_generated_documents_under_random_edits(tmp_path):
    generate(tmp_path, documents=3, rules=60, exceptions=2, varied=True)
    totals = [0, 0]
    for i, doc in enumerate(sorted((tmp_path / "policy").glob("doc-*.yaml"))):
        used, declined = _check_chain(doc.read_text(), 300, seed=i)
        totals[0] += used
        totals[1] += declined
    assert totals[0] > 100 and totals[1] > 200, totals  # both paths taken, many times


def test_a_hand_written_document_under_random_edits():
    used, declined = _check_chain(NESTED, 600, seed=7)
    assert used > 50 and declined > 50, (used, declined)


def test_what_is_declined():
    obj, value = _full(NESTED)
    known = incremental.remember(NESTED, value, obj)
    assert known is not None and len(known.spans) == 6  # every rule, the one-line '- {...}' too
    assert incremental.update(known, PATH, NESTED.replace("title: Nested", "title: Other")) is None
    assert incremental.update(known, PATH, NESTED.replace("  title: A\n", "  title: AA\n")) is None
    assert incremental.update(known, PATH, NESTED.replace("Plain text", "Plain &a text")) is None
    assert incremental.update(known, PATH, NESTED.replace("Kept\n", "Kept\nmore\n")) is None
    changed = incremental.update(known, PATH, NESTED.replace("The very last rule.", "The last rule."))
    assert changed is not None and _rules(changed.document)[-1].text == "The last rule."
    assert _rules(changed.document)[0] is _rules(obj)[0]  # what did not change is shared
    assert incremental.remember(NESTED.replace("Plain text", "Plain &a text"), value, obj) is None


def test_history_is_the_same_with_and_without_incremental_reading(repo, monkeypatch):
    from generator.history import versions
    from generator.history.versions import timeline

    root, commit = repo.root, repo.commit
    generate(root, documents=2, rules=30, exceptions=3, varied=True)
    commit("Initial")
    rng = random.Random(3)
    doc = root / "policy" / "doc-001.yaml"
    for i in range(30):
        text = doc.read_text()
        doc.write_text(_edits(text, rng))
        commit(f"Edit {i}")
        if i % 7 == 6:
            doc.write_text(text)  # and back, when the edit broke the file
            commit(f"Repair {i}")

    def summary(line):
        return ([(e.commit.sha, e.summary, e.changes, e.invalid) for e in line.entries],
                {p: [(v.label, v.status, v.title, v.introduced.sha, [r.sha for r in v.revisions]) for v in vs]
                 for p, vs in line.versions.items()})

    monkeypatch.setenv("POLICY_CACHE_DIR", str(root.parent / "cache-a"))
    calls = []
    real = versions.read_from_previous
    monkeypatch.setattr(versions, "read_from_previous", lambda *a: calls.append(1) or real(*a))
    with_it = summary(timeline(root))
    assert calls
    monkeypatch.setenv("POLICY_CACHE_DIR", str(root.parent / "cache-b"))
    monkeypatch.setattr(versions, "read_from_previous", lambda *a: None)
    without = summary(timeline(root))
    assert with_it == without


def test_blob_stream_reads_what_git_holds_in_any_order(repo):
    from generator.history.gitrepo import BlobStream, GitSources

    for i in range(6):
        (repo.root / "policy" / f"extra-{i}.txt").write_text(f"{i}" * (i * 1000 + 1))
        repo.commit(f"Edit {i}")
    with GitSources(repo.root) as sources:
        blobs = [c.new_blob for commit in sources.log() for c in commit.changes if c.new_blob]
        truth = {sha: sources.repo.odb.stream(bytes.fromhex(sha)).read() for sha in blobs}
        stream = BlobStream("git", sources.git_dir, blobs)
        try:
            order = list(reversed(blobs[-4:])) + blobs[:-4]  # read past some, then back
            assert [stream.get(sha) for sha in order] == [truth[sha] for sha in order]
            assert stream.get("0" * 40) is None  # not asked for: the caller reads it itself
            assert stream.stash == {} and stream.stashed == 0
        finally:
            stream.close()
        small = BlobStream("git", sources.git_dir, blobs)
        small.STASH_BYTES = 1  # nothing may wait in the stash: a blob read past is let go
        try:
            assert small.get(blobs[-1]) == truth[blobs[-1]]
            assert small.get(blobs[0]) is None and small.stashed <= 1
        finally:
            small.close()
        sources.prefetch(blobs)
        assert [sources.blob(sha) for sha in blobs] == [truth[sha] for sha in blobs]
