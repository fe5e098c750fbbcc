"""Notice periods: `policy check --against REV` refuses a change that makes a rule stricter
sooner than [tool.policy] notice_days after it is made, naming the rule, the dates and the fix,
unless the rule gives a reason (`notice_override`), which the page then shows."""

from __future__ import annotations

NEW_RULE = ("      - id: high-risk.legal\n",
            "      - id: weapons.mass-casualty\n        title: Mass casualties\n        text: Never.\n"
            "      - id: high-risk.legal\n")


def _notice(repo, days: int = 30) -> None:
    (repo.root / "pyproject.toml").write_text(f"[tool.policy]\nnotice_days = {days}\n")
    repo.commit("Notice period")


def test_a_rule_added_without_notice_is_refused_then_accepted_when_dated(repo, cli):
    _notice(repo)
    repo.edit("policy/main.yaml", *NEW_RULE)
    result = cli(["check", "--today", "2026-11-28"], cwd=repo.root)
    assert result.exit_code == 1
    line = next(l for l in result.output.splitlines() if "mass-casualty" in l)
    assert line.startswith("policy/main.yaml:18:13: rule 'weapons.mass-casualty' becomes stricter (added) on "
                           "2026-11-28, 0 days after this change (compared with HEAD (")
    assert "the notice period is 30 days ([tool.policy] notice_days): give the rule 'effective: 2026-12-28' or " \
           "later, or say why it cannot wait with 'notice_override: ...' on the rule" in line
    repo.edit("policy/main.yaml", "        text: Never.\n", "        text: Never.\n        effective: 2026-12-20\n")
    early = cli(["check", "--today", "2026-11-28"], cwd=repo.root)
    assert early.exit_code == 1 and "on 2026-12-20, 22 days after this change" in early.output
    repo.edit("policy/main.yaml", "effective: 2026-12-20", "effective: 2026-12-28")
    assert cli(["check", "--today", "2026-11-28"], cwd=repo.root).exit_code == 0
    repo.commit("Announced")  # once committed, HEAD has it: nothing new to give notice of
    assert cli(["check", "--today", "2026-12-01"], cwd=repo.root).exit_code == 0


def test_a_rule_made_stricter_in_place_names_the_field_and_the_way_to_give_notice(repo, cli):
    _notice(repo, 14)
    repo.edit("policy/main.yaml", "        obligations: [human-review]\n",
              "        obligations: [human-review, disclosure]\n")
    repo.edit("policy/main.yaml", "  - id: human-review\n", "  - id: disclosure\n    title: Told\n  - id: human-review\n")
    result = cli(["check", "--today", "2026-11-28"], cwd=repo.root)
    assert result.exit_code == 1
    line = next(l for l in result.output.splitlines() if "high-risk.legal" in l)
    assert "policy/main.yaml:24:22: rule 'high-risk.legal' becomes stricter (given another obligation)" in line
    assert "retire it on 2026-12-12 or later, and add the stricter wording as a new rule" in line
    # a reworded rule, a looser change and a draft's change need no notice
    repo.git.git.checkout("--", "policy/main.yaml")
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.edit("policy/main.yaml", "        text: Designing or building weapons.\n",
              "        text: Designing or building weapons.\n        waivable: true\n")
    assert cli(["check", "--today", "2026-11-28"], cwd=repo.root).exit_code == 0


def test_an_override_is_accepted_and_shown_on_the_page(repo, cli, tmp_path):
    _notice(repo)
    repo.edit("policy/main.yaml", *NEW_RULE)
    repo.edit("policy/main.yaml", "        text: Never.\n",
              "        text: Never.\n        notice_override: Required at once by <law> 2026/7.\n")
    assert cli(["check", "--today", "2026-11-28"], cwd=repo.root).exit_code == 0
    out = tmp_path / "site"
    assert cli(["build", "--root", str(repo.root), "--out", str(out)]).exit_code == 0
    page = (out / "main" / "index.html").read_text()
    assert "Made stricter without the usual notice period: Required at once by &lt;law&gt; 2026/7." in page
    assert "Made stricter without the usual notice period: Required at once by \\<law\\> 2026/7." in \
        (out / "main.md").read_text()


def test_notice_days_is_checked_and_off_by_default(repo, cli):
    repo.edit("policy/main.yaml", *NEW_RULE)
    assert cli(["check", "--today", "2026-11-28"], cwd=repo.root).exit_code == 0  # no notice_days: no check
    (repo.root / "pyproject.toml").write_text('[tool.policy]\nnotice_days = "30"\n')
    bad = cli(["check"], cwd=repo.root)
    assert bad.exit_code == 1 and "pyproject.toml:2:1: [tool.policy] notice_days must be a whole number of days" in bad.output
