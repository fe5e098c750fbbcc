"""`policy fmt`: the canonical layout, comments and key order kept, idempotent, never a change of
meaning (the checked model and every value are the same before and after, on every fixture,
the example and a generated corpus), --check for CI, broken files left alone."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys

from conftest import FIXTURES, REPO, build_root
from generator.fmt import fmt_root, format_text
from generator.validate import check_root

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402

MESSY = """# Comment at the top, kept
id: gov
title:   'Government analysis'     # a trailing comment, kept
status: active
effective: 2024-06-26
review_by: 2030-06-26
eligibility:
    customer_types:   [government]
    attestations: [legal-authority]
models:
      max_asl: 2
permits:
- rule: surveillance.intelligence-analysis
  purposes: [combating human trafficking]
retains: [weapons.design]
contract: MSA-2024-GOV-017
approved_by: [Ann Counsel <ann@example.com>]
summary: |
  Kept line one.
  Kept line two.
"""


def _meaning(value):
    """A model object with every position left out (formatting may move text, not change it)."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple((f.name, _meaning(getattr(value, f.name)))
                                            for f in dataclasses.fields(value)
                                            if f.name not in ("origin", "rule_origin", "positions")))
    if isinstance(value, (tuple, list)):
        return tuple(_meaning(v) for v in value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return tuple(sorted((k, _meaning(v)) for k, v in value.items()))
    return value


def _values(root):
    result = check_root(root, today=None)
    corpus = result.corpus
    return (_meaning(corpus.documents) if corpus else None, _meaning(corpus.exceptions) if corpus else None,
            _meaning(corpus.models) if corpus else None, [(d.path, d.message) for d in result.diagnostics])


def test_a_messy_file_gets_the_layout_and_keeps_its_comments_and_meaning(root, cli):
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text(MESSY)
    before = _values(root)
    check = cli(["fmt", "--check"], cwd=root)
    assert check.exit_code == 1 and "would reformat exceptions/gov.yaml" in check.output
    assert gov.read_text() == MESSY  # --check writes nothing
    done = cli(["fmt"], cwd=root)
    assert done.exit_code == 0 and "reformatted exceptions/gov.yaml" in done.output
    text = gov.read_text()
    assert text.startswith("# Comment at the top, kept\n")
    assert re.search(r"^title: 'Government analysis' +# a trailing comment, kept$", text, re.M)
    assert "eligibility:\n  customer_types: [government]\n" in text
    assert "permits:\n  - rule: surveillance.intelligence-analysis\n    purposes:" in text
    assert "summary: |\n  Kept line one.\n  Kept line two.\n" in text
    assert _values(root) == before  # the same model and the same findings
    assert cli(["fmt", "--check"], cwd=root).exit_code == 0  # idempotent


def test_only_the_files_named_are_checked_and_formatted(root, cli, monkeypatch):
    """What a pre-commit hook or an editor does: name the files (paths from the current folder)."""
    import generator.fmt as fmt

    gov, main = root / "exceptions" / "gov.yaml", root / "policy" / "main.yaml"
    gov.write_text(MESSY)
    messy_main = main.read_text().replace("title: ", "title:     ", 1)
    main.write_text(messy_main)
    seen = []
    real = fmt.format_text
    monkeypatch.setattr(fmt, "format_text", lambda text: seen.append(text) or real(text))
    check = cli(["fmt", "--check", "exceptions/gov.yaml"], cwd=root)
    assert check.exit_code == 1 and check.output.splitlines()[0] == "would reformat exceptions/gov.yaml"
    assert "main.yaml" not in check.output and seen == [MESSY]  # no other file was read
    assert cli(["fmt", "--check", "policy/models.yaml"], cwd=root).exit_code == 0
    done = cli(["fmt", "--root", "..", "exceptions/gov.yaml"], cwd=root / "policy")  # paths from the current folder...
    assert done.exit_code == 2 and "exceptions/gov.yaml: no such file" in done.output
    done = cli(["fmt", "--root", "..", "../exceptions/gov.yaml"], cwd=root / "policy")
    assert done.exit_code == 0 and "reformatted ../exceptions/gov.yaml" in done.output
    assert gov.read_text() != MESSY and main.read_text() == messy_main  # ... and only the one named
    folder = cli(["fmt", "--check", "policy"], cwd=root)  # a folder: its files
    assert folder.exit_code == 1 and "would reformat policy/main.yaml" in folder.output


def test_a_name_that_is_not_a_source_file_is_a_usage_error_naming_what_is_allowed(root, cli, tmp_path):
    (root / "README.md").write_text("notes\n")
    (root / "policy" / "drafts").mkdir()
    (root / "policy" / "drafts" / "x.yaml").write_text("a: 1\n")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("a: 1\n")
    allowed = ("give source files (policy/models.yaml, policy/<document>.yaml, exceptions/<id>.yaml), "
               "the policy/ or exceptions/ folder, or nothing for every source file")
    for name, problem in (("README.md", "not a source file"), ("policy/drafts/x.yaml", "not a source file"),
                          ("policy/drafts", "this folder holds no source files"), ("policy/gone.yaml", "no such file"),
                          (str(outside), f"not under the policy root")):
        result = cli(["fmt", "--check", name], cwd=root)
        assert result.exit_code == 2, (name, result.output)
        assert f"{name}: {problem}" in result.output and allowed in result.output, result.output
    assert "Traceback" not in result.output


def test_a_run_on_some_files_keeps_what_is_known_of_the_others(root, monkeypatch):
    import generator.fmt as fmt

    calls = []
    real = fmt.format_text
    monkeypatch.setattr(fmt, "format_text", lambda text: calls.append(1) or real(text))
    fmt_root(root)
    assert len(calls) == 3
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text(gov.read_text() + "# a comment\n")
    calls.clear()
    assert fmt_root(root, paths=[gov]).changed == [] and len(calls) == 1
    calls.clear()
    assert fmt_root(root, check=True).changed == [] and calls == []  # the other two are still known


def test_never_a_change_of_meaning_and_idempotent_on_every_fixture_and_a_corpus(tmp_path):
    roots = [build_root(tmp_path / "base")]
    roots += [build_root(tmp_path / case.name, case) for case in sorted((FIXTURES / "bad").iterdir()) if case.is_dir()]
    example = tmp_path / "example"
    for part in ("policy", "exceptions"):
        shutil.copytree(REPO / part, example / part)
    roots.append(example)
    generate(tmp_path / "corpus", documents=4, rules=60, exceptions=8, varied=True)
    roots.append(tmp_path / "corpus")
    formatted = 0
    for root in roots:
        before = _values(root)
        first = fmt_root(root, use_cache=False)
        formatted += len(first.changed)
        assert _values(root) == before, root.name
        second = fmt_root(root, use_cache=False)
        assert second.changed == [], (root.name, second.changed)
    for text in (MESSY, "a:   1\nb:\n- x\n-   y\n", "k: 'quoted'\nl: \"double\"\nm: >\n  folded\n  text\n"):
        assert format_text(format_text(text)) == format_text(text)


def test_a_broken_file_is_left_alone(root, cli):
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text("id: [broken\n")
    result = cli(["fmt"], cwd=root)
    assert result.exit_code == 1 and "exceptions/gov.yaml:2:1: malformed YAML" in result.output
    assert gov.read_text() == "id: [broken\n"


def test_a_reindented_corpus_comes_back_byte_for_byte(tmp_path):
    from ruamel.yaml import YAML

    root = tmp_path / "corpus"
    generate(root, documents=3, rules=45, exceptions=6, varied=True)
    files = sorted([*root.glob("policy/*.yaml"), *root.glob("exceptions/*.yaml")])
    canonical = {f: f.read_text() for f in files}
    before = _values(root)
    wide = YAML(typ="rt")
    wide.preserve_quotes = True
    wide.indent(mapping=4, sequence=6, offset=4)
    for f in files:
        with open(f, "w") as fh:
            wide.dump(wide.load(canonical[f]), fh)
    assert any(f.read_text() != canonical[f] for f in files)
    result = fmt_root(root, use_cache=False)
    assert len(result.changed) == len(files) and not result.problems
    assert {f: f.read_text() for f in files} == canonical
    assert _values(root) == before


def test_files_known_to_be_canonical_are_not_formatted_again_until_they_change(root, monkeypatch):
    import generator.fmt as fmt

    calls = []
    real = fmt.format_text
    monkeypatch.setattr(fmt, "format_text", lambda text: calls.append(1) or real(text))
    fmt_root(root)
    assert len(calls) == 3  # every file, once
    calls.clear()
    assert fmt_root(root).changed == [] and calls == []  # all known canonical: none read again
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text(gov.read_text().replace("  max_asl: 2", "      max_asl: 2"))
    assert fmt_root(root, check=True).changed == ["exceptions/gov.yaml"] and len(calls) == 1


def test_many_files_are_formatted_in_parallel_as_in_one_process(tmp_path, monkeypatch):
    """Above forkmap.FORK_MIN_ITEMS files, helpers format shares of them (issue 12 at scale:
    10,000 files took 68 s in one process); the outcome is one process's, problems included."""
    from ruamel.yaml import YAML

    import generator.fmt as fmt

    root = tmp_path / "corpus"
    generate(root, documents=40, rules=400, exceptions=40, varied=True)
    files = sorted([*root.glob("policy/*.yaml"), *root.glob("exceptions/*.yaml")])
    canonical = {f: f.read_text() for f in files}
    wide = YAML(typ="rt")
    wide.indent(mapping=4, sequence=6, offset=4)
    for f in files[::2]:
        with open(f, "w") as fh:
            wide.dump(wide.load(canonical[f]), fh)
    broken = files[3]
    broken.write_text("id: [broken\n")
    expected = sorted(str(f.relative_to(root)) for f in files[::2] if f != broken)
    seen = tmp_path / "pids"  # which processes formatted (helpers cannot tell this one otherwise)
    real = fmt.format_text

    def watched(text):
        with open(seen, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(text)

    monkeypatch.setattr(fmt, "format_text", watched)
    checked = fmt_root(root, check=True, use_cache=False)
    assert sorted(checked.changed) == expected
    assert [(p.path, p.line) for p in checked.problems] == [(str(broken.relative_to(root)), 2)]
    assert len(set(seen.read_text().split())) == min(os.cpu_count() or 1, 16)  # one process per CPU formatted
    result = fmt_root(root, use_cache=False)
    assert result.changed == checked.changed and result.problems == checked.problems
    assert {f: f.read_text() for f in files if f != broken} == {f: t for f, t in canonical.items() if f != broken}
