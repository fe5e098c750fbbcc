"""Approvals on the record: "Approved-by:" trailers (git's convention) of the commits that
publish a version are read from history and shown in `policy history`, on the version pages
and in the changelog."""

from __future__ import annotations

import json

from generator.build import build

APPROVED = "Approved-by: Ann Counsel <ann@example.com>\nApproved-by: Bo Chief <bo@example.com>"


def test_trailers_show_in_history_version_pages_and_changelog(repo, cli, tmp_path):
    repo.edit("policy/main.yaml", "effective: 2024-06-06", "effective: 2025-09-15")
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit(f"New version\n\nWhy it changed.\n\n{APPROVED}")
    repo.edit("policy/main.yaml", "Designing or building weapons.", "Designing, or building, weapons.")
    repo.commit("Typo\n\nApproved-by: Cy Editor <cy@example.com>\nApproved-by: Ann Counsel <ann@example.com>")
    history = json.loads(cli(["history", "--root", str(repo.root), "--format", "json"]).output)
    newest = history["versions"]["main"][0]
    assert newest["introduced"]["approved_by"] == ["Ann Counsel <ann@example.com>", "Bo Chief <bo@example.com>"]
    assert newest["revisions"][0]["approved_by"] == ["Cy Editor <cy@example.com>", "Ann Counsel <ann@example.com>"]
    assert history["versions"]["main"][1]["introduced"]["approved_by"] == []
    out = tmp_path / "site"
    build(repo.root, out)
    versions = (out / "versions" / "index.html").read_text()
    assert ("approved by Ann Counsel &lt;ann@example.com&gt;, Bo Chief &lt;bo@example.com&gt;, "
            "Cy Editor &lt;cy@example.com&gt;)") in versions  # each approver once, in order
    assert cli(["changelog", "--root", str(repo.root)]).exit_code == 0
    changelog = (repo.root / "CHANGELOG.md").read_text()
    assert ("; approved by Ann Counsel <ann@example.com>, Bo Chief <bo@example.com>, Cy Editor <cy@example.com>."
            in changelog)
