"""`policy check` end to end: the example, generated bad input, warnings, formats, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, build_root, FIXTURES
from generator.errors import ValidationFailed
from generator.load import MAX_FILE_BYTES
from generator.validate import check_root, load_corpus


def test_example_policy_in_the_repo_is_clean(cli):
    """The sources have no problem; the only warnings are those of the example's partial, stale
    Arabic translation (shipped that way on purpose), and --strict turns them into a failure."""
    result = cli(["check", "--root", str(REPO), "--today", "2026-01-01"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "policy check: 0 errors, 4 warnings in 3 files", result.output
    assert all(line.startswith(str(REPO / "translations" / "ar")) for line in lines[:-1]), result.output
    assert cli(["check", "--strict", "--root", str(REPO), "--today", "2026-01-01"]).exit_code == 1


def test_installed_command_runs_without_traceback(tmp_path):
    exe = shutil.which("policy") or os.path.join(os.path.dirname(sys.executable), "policy")
    ok = subprocess.run([exe, "check", "--root", str(REPO)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([exe, "check", "--root", str(tmp_path / "missing")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "no such folder" in bad.stderr and "Traceback" not in bad.stderr


def test_oversized_file_is_refused(root, cli):
    filler = "# " + "x" * 98 + "\n"
    (root / "exceptions" / "gov.yaml").write_text(filler * (MAX_FILE_BYTES // 100 + 10))
    result = cli(["check"], cwd=root)
    assert result.exit_code == 1
    assert result.output.startswith("exceptions/gov.yaml: file is too large (")
    assert f"the limit is {MAX_FILE_BYTES:,}" in result.output


def test_a_source_is_read_whole_through_short_reads_and_growth(root, monkeypatch):
    """Sources are read with os.read alone: a short read, or a file that changed between its
    fstat and its read, still gives the whole file (or the size error), never a cut one."""
    from generator.load import files, read_tree

    expected = {raw.path: raw.data for raw in read_tree(root)[0]}
    real_read = os.read
    monkeypatch.setattr(files.os, "read", lambda fd, n: real_read(fd, min(n, 7)))  # 7 bytes at a time
    assert {raw.path: raw.data for raw in read_tree(root)[0]} == expected
    grown = root / "exceptions" / "gov.yaml"
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size the file had before it grew past the limit
        info = real_fstat(fd)
        if info.st_size > MAX_FILE_BYTES:
            return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))
        return info

    grown.write_bytes(b"# x\n" * (MAX_FILE_BYTES // 4 + 10))
    monkeypatch.setattr(files.os, "read", real_read)
    monkeypatch.setattr(files.os, "fstat", stale_fstat)
    files_read, problems = read_tree(root)
    assert "exceptions/gov.yaml" not in {raw.path for raw in files_read}
    assert any(p.path == "exceptions/gov.yaml" and "file is too large (over" in p.message for p in problems)


def test_pages_are_written_whole_through_partial_writes(tmp_path, monkeypatch):
    from generator.render import site

    real_write = os.write
    monkeypatch.setattr(site.os, "write", lambda fd, data: real_write(fd, bytes(data[:5])))
    target = tmp_path / "new-folder" / "index.html"
    site._write(target, "<p>é</p>".encode() * 1000)
    assert target.read_bytes() == "<p>é</p>".encode() * 1000
    site._write(target, b"short")  # an existing file is replaced, not appended to
    assert target.read_bytes() == b"short"


def test_symlink_leading_outside_the_root_is_refused(root, tmp_path, cli):
    outside = tmp_path / "outside.yaml"
    shutil.copyfile(root / "exceptions" / "gov.yaml", outside)
    (root / "exceptions" / "gov.yaml").unlink()
    (root / "exceptions" / "gov.yaml").symlink_to(outside)
    result = cli(["check"], cwd=root)
    assert result.exit_code == 1
    assert "exceptions/gov.yaml: this file is a link to a place outside the policy folder" in result.output


def test_symlink_inside_the_root_is_followed(root, cli):
    (root / "shared").mkdir()
    shutil.move(root / "exceptions" / "gov.yaml", root / "shared" / "gov.yaml")
    (root / "exceptions" / "gov.yaml").symlink_to(root / "shared" / "gov.yaml")
    assert cli(["check"], cwd=root).exit_code == 0


def test_unusable_arguments_exit_2(root, cli):
    assert cli(["check", "--root", str(root / "nope")]).exit_code == 2
    assert cli(["check", "--root", str(root / "policy" / "main.yaml")]).exit_code == 2
    assert cli(["check", "--format", "xml", "--root", str(root)]).exit_code == 2
    assert cli(["check", "--today", "2024-13-01", "--root", str(root)]).exit_code == 2
    assert cli(["frobnicate"]).exit_code == 2


def test_all_errors_across_files_are_collected_sorted_and_summarized(root, cli):
    bad = FIXTURES / "bad"
    shutil.copyfile(bad / "wrong-type" / "policy" / "models.yaml", root / "policy" / "models.yaml")
    shutil.copyfile(bad / "invalid-date" / "exceptions" / "gov.yaml", root / "exceptions" / "gov.yaml")
    (root / "exceptions" / "another.yaml").write_text((root / "exceptions" / "gov.yaml").read_text())
    result = cli(["check"], cwd=root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        "exceptions/another.yaml:4:12: 'effective' is '2024-13-01', which is not a real calendar date; "
        "write a date that exists, as YYYY-MM-DD",
        "exceptions/another.yaml:5:12: 'review_by' must be a date written YYYY-MM-DD (e.g. 2024-06-06), "
        "not 'June 2030'",
        "exceptions/gov.yaml:4:12: 'effective' is '2024-13-01', which is not a real calendar date; "
        "write a date that exists, as YYYY-MM-DD",
        "exceptions/gov.yaml:5:12: 'review_by' must be a date written YYYY-MM-DD (e.g. 2024-06-06), "
        "not 'June 2030'",
        "policy/models.yaml:4:10: 'asl' must be a whole number, not the text 'two'",
        "note: not a git repository: the check that published rule ids are kept was skipped",
        "policy check: 5 errors, 0 warnings in 4 files",
    ]


def test_paths_are_shown_relative_to_where_the_command_runs(root, cli, tmp_path):
    (root / "policy" / "models.yaml").write_text("models: []\n")
    result = cli(["check", "--root", "root"], cwd=tmp_path)
    assert result.output.startswith("root/policy/models.yaml:1:9: 'models' is empty; list at least 1 item")


def _draft(root, review_by="2030-06-26", status="draft"):
    path = root / "exceptions" / "gov.yaml"
    text = path.read_text().replace("status: active", f"status: {status}")
    path.write_text(text.replace("review_by: 2030-06-26", f"review_by: {review_by}"))


def test_warnings_exit_0_unless_strict(root, cli):
    _draft(root)
    result = cli(["check"], cwd=root)
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "exceptions/gov.yaml:3:9: warning: exception 'gov' is a draft: it is not published and grants "
        "nothing until 'status: active'",
        "note: not a git repository: the check that published rule ids are kept was skipped",
        "policy check: 0 errors, 1 warning in 3 files",
    ]
    assert cli(["check", "--strict"], cwd=root).exit_code == 1


def test_passed_review_date_is_a_warning(root, cli):
    _draft(root, review_by="2025-01-01", status="active")
    result = cli(["check", "--today", "2025-06-01"], cwd=root)
    assert result.exit_code == 0
    assert "warning: exception 'gov' was due for review on 2025-01-01" in result.output
    assert cli(["check", "--today", "2024-12-01"], cwd=root).output.endswith("no problems found\n")


def test_json_format(root, cli):
    shutil.copyfile(FIXTURES / "bad" / "unknown-key" / "policy" / "models.yaml", root / "policy" / "models.yaml")
    result = cli(["check", "--format", "json"], cwd=root)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and report["errors"] == 2 and report["files"] == 3
    assert report["diagnostics"][1] == {
        "path": "policy/models.yaml", "line": 3, "column": 5, "severity": "error",
        "message": "unknown key 'nmae' in model 'small'; did you mean 'name'? allowed keys: asl, id, name"}


def test_library_returns_diagnostics_without_printing(tmp_path, capsys):
    root = build_root(tmp_path / "r", FIXTURES / "bad" / "permits-non-waivable")
    result = check_root(root)
    assert [d.message.split(",")[0] for d in result.errors] == ["permits rule 'weapons.design'"]
    with pytest.raises(ValidationFailed) as info:
        load_corpus(root)
    assert info.value.errors[0].path == "exceptions/gov.yaml"
    assert capsys.readouterr() == ("", "")


def test_broken_policy_file_does_not_cause_false_reference_errors(root, cli):
    (root / "policy" / "main.yaml").write_text("id: main\ntitle: [unclosed\n")
    result = cli(["check"], cwd=root)
    assert result.exit_code == 1
    assert "does not exist" not in result.output  # the exception's rules are in the broken file
    assert result.output.count("\n") == 3  # the error, the note (not a git repository), the summary


def test_an_active_exception_says_which_contract_and_who_approved_it(root, cli):
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text("".join(line for line in gov.read_text().splitlines(keepends=True)
                           if not line.startswith(("contract:", "approved_by:"))))
    result = cli(["check"], cwd=root)
    assert result.exit_code == 0
    assert ("exceptions/gov.yaml:1:5: warning: active exception 'gov' does not say which contract grants it or "
            "who approved it; add 'contract: MSA-2024-017' and 'approved_by: [Ann Counsel <ann@example.com>]' "
            "(not published)") in result.output
    assert cli(["check", "--strict"], cwd=root).exit_code == 1
    gov.write_text(gov.read_text() + "contract: MSA-1\n")
    assert "does not say who approved it; add 'approved_by:" in cli(["check"], cwd=root).output
