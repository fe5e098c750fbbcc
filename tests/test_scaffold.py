"""`policy new exception ID`: a skeleton that fails on its placeholders and passes once filled in."""

from __future__ import annotations

import re


def test_skeleton_names_its_placeholders_then_passes_when_filled_in(root, cli):
    made = cli(["new", "exception", "research-access"], cwd=root)
    assert made.exit_code == 0, made.output
    path = root / "exceptions" / "research-access.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "rule: surveillance.intelligence-analysis" in text  # the only waivable rule, suggested

    first = cli(["check"], cwd=root)
    assert first.exit_code == 1
    lines = first.output.splitlines()
    assert [re.sub(r" \(.*", "", line) for line in lines[:-1] if not line.startswith("note:")] == [
        "exceptions/research-access.yaml:6:8: 'title' still holds placeholder text",
        "exceptions/research-access.yaml:27:9: 'purposes' still holds placeholder text",
        "exceptions/research-access.yaml:33:3: 'summary' still holds placeholder text",
        "exceptions/research-access.yaml:35:11: 'contract' still holds placeholder text",
        "exceptions/research-access.yaml:36:15: 'approved_by' still holds placeholder text",
    ]
    assert lines[-1] == "policy check: 5 errors, 0 warnings in 4 files"

    filled = text.replace("TODO: a short title, e.g. ", "").replace(
        "TODO: a purpose this relaxation covers, e.g. ", "").replace("TODO: explain", "We explain").replace(
        "TODO: the contract reference, e.g. ", "").replace("TODO: who approved it, e.g. ", "")
    path.write_text(filled)
    second = cli(["check"], cwd=root)
    assert second.exit_code == 0, second.output
    assert "warning: exception 'research-access' is a draft" in second.output
    path.write_text(filled.replace("status: draft", "status: active"))
    assert cli(["check", "--strict"], cwd=root).exit_code == 0
    # a placeholder spelt with escapes is found too (the check skips texts that cannot hold one)
    escaped = re.sub(r"(?m)^title: .*$", lambda m: 'title: "\\x54ODO later"', filled, count=1)
    path.write_text(escaped)
    third = cli(["check"], cwd=root)
    assert third.exit_code == 1 and "'title' still holds placeholder text" in third.output, third.output


def test_refuses_bad_ids_existing_files_and_missing_roots(root, cli, tmp_path):
    bad = cli(["new", "exception", "Bad_Id"], cwd=root)
    assert bad.exit_code == 2 and "not a valid exception id" in bad.output
    exists = cli(["new", "exception", "gov"], cwd=root)
    assert exists.exit_code == 2 and "already exists" in exists.output
    assert (root / "exceptions" / "gov.yaml").read_text().startswith("id: gov")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["new", "exception", "x", "--root", str(empty)]).exit_code == 2


def test_skeleton_in_a_policy_without_waivable_rules_says_so(root, cli):
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("        waivable: true\n", ""))
    (root / "exceptions" / "gov.yaml").unlink()
    assert cli(["new", "exception", "first"], cwd=root).exit_code == 0
    text = (root / "exceptions" / "first.yaml").read_text()
    assert "No rule in policy/ is waivable yet" in text
    result = cli(["check"], cwd=root)
    assert "'rule' still holds placeholder text" in result.output
