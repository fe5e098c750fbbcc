"""`policy impact`: logged requests replayed against two versions of the sources, on a real
repository, with decision logs written by the DecisionLog; masked inputs counted, not guessed."""

from __future__ import annotations

import json

from generator.build import build
from generator.runtime import Bundle, DecisionLog, JsonLinesSink

GOV = {"type": "government", "exceptions": ["gov"], "attestations": ["legal-authority"]}


def _log(repo, tmp_path, masked: bool = False):
    build(repo.root, tmp_path / "site")
    bundle = Bundle.load(tmp_path / "site" / "bundle")
    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(JsonLinesSink(path), mask=["/input/customer/attestations"] if masked else ())
    for i in range(30):
        for use in ("weapons.design", "surveillance.intelligence-analysis", "high-risk.legal"):
            customer = dict(GOV, type=["government", "nonprofit"][i % 2])
            request = {"use": use, "customer": customer, "model": "small", "at": "2025-01-15"}
            log.record(request, bundle.decide(request))
    log.close()
    return path


def test_a_loosening_change_is_reported_before_it_merges(repo, cli, tmp_path):
    path = _log(repo, tmp_path)
    assert cli(["impact", str(path), "--root", str(repo.root)]).exit_code == 0  # nothing changed yet
    # make weapons.design waivable and let the exception permit it (it retained it before)
    repo.edit("policy/main.yaml", "        text: Designing weapons.\n", "        text: Designing weapons.\n"
                                                                         "        waivable: true\n")
    repo.edit("exceptions/gov.yaml", "retains: [weapons.design]", "retains: []")
    repo.edit("exceptions/gov.yaml", "permits:\n", "permits:\n  - rule: weapons.design\n    purposes: [testing]\n")
    result = cli(["impact", str(path), "--root", str(repo.root), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["replayed"] == 90 and data["loosening"] == 15 and data["tightening"] == 0
    change, = data["changes"]
    assert (change["direction"], change["rule"], change["customer_type"], change["reason"], change["exception"]) == \
        ("deny -> allow", "weapons.design", "government", "exception", "gov")
    assert change["count"] == 15 and len(change["examples"]) == 3 and change["first"] <= change["last"]
    assert data["base"] == repo.git.head.commit.hexsha and data["head"] == "working tree"
    markdown = cli(["impact", str(path), "--root", str(repo.root)]).output
    assert "**15 decisions would become allowed, 0 would become denied**, of 90 replayed." in markdown
    assert "| deny -> allow | `weapons.design` | government | exception | `gov` | 15 |" in markdown
    assert cli(["impact", str(path), "--root", str(repo.root), "--fail-on", "loosening"]).exit_code == 1
    repo.commit("Relax weapons design")
    assert cli(["impact", str(path), "--root", str(repo.root), "--base", "HEAD~1", "--head", "HEAD",
                "--fail-on", "any"]).exit_code == 1
    # or two built bundles: the one the log was written with, and the one built now
    build(repo.root, tmp_path / "new-site")
    both = json.loads(cli(["impact", str(path), "--base-bundle", str(tmp_path / "site" / "bundle"),
                           "--head-bundle", str(tmp_path / "new-site" / "bundle" / "bundle.tar.gz"),
                           "--format", "json"]).output)
    assert both["loosening"] == 15 and both["head"].endswith("bundle.tar.gz")
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(b"not a bundle")
    assert cli(["impact", str(path), "--base-bundle", str(tampered), "--head-bundle",
                str(tmp_path / "site" / "bundle")]).exit_code == 1


def test_masked_inputs_are_counted_and_bad_input_refused(repo, cli, tmp_path):
    path = _log(repo, tmp_path, masked=True)
    data = json.loads(cli(["impact", str(path), "--root", str(repo.root), "--format", "json"]).output)
    assert data["replayed"] == 0 and data["not_replayed_masked"] == 90
    text = tmp_path / "notes.txt"
    text.write_text("not a log\n")
    refused = cli(["impact", str(text), "--root", str(repo.root)])
    assert refused.exit_code == 1 and "no decision event in it" in refused.output
    assert cli(["impact", str(path), "--root", str(repo.root), "--base", "no-such-rev"]).exit_code == 2
    assert cli(["impact", "--root", str(repo.root)]).exit_code == 2
