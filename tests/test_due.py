"""`policy due` and calendar.ics: overdue reviews and expiries named with their file and line,
dates coming up soonest first, exit codes for a daily CI job, and a calendar feed that a
calendar library reads back, byte-identical from build to build."""

from __future__ import annotations

import json

import icalendar

from generator.build import build


def _add(root, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1))


def _schedule(root) -> None:
    """A rule that takes effect later, one that is retired later, an expiring exception and a draft."""
    _add(root, "exceptions/gov.yaml", "review_by: 2030-06-26", "review_by: 2030-06-26\nexpires: 2031-01-31")
    text = (root / "policy/main.yaml").read_text()
    assert "id: weapons.design" in text
    _add(root, "policy/main.yaml", "id: weapons.design\n", "id: weapons.design\n        effective: 2030-03-01\n")
    (root / "exceptions/draft.yaml").write_text(
        (root / "exceptions/gov.yaml").read_text().replace("id: gov", "id: draft").replace("status: active",
                                                                                           "status: draft"))


def test_nothing_overdue_lists_what_is_coming_soonest_first(root, cli):
    _schedule(root)
    result = cli(["due", "--today", "2029-12-01"], cwd=root)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "coming:"
    assert [line.split()[0] for line in lines[1:-1]] == ["2030-03-01", "2030-06-26", "2031-01-31"]
    assert "Rule weapons.design takes effect" in lines[1] and "(policy/main.yaml:" in lines[1]
    assert "Review of exception gov due" in lines[2] and "exceptions/gov.yaml:5)" in lines[2]
    assert "Exception gov expires" in lines[3]
    assert "draft" not in result.output  # a draft grants nothing and is not published
    assert lines[-1] == "policy due: 0 overdue, 3 coming (as of 2029-12-01)"
    window = cli(["due", "--today", "2029-12-01", "--within", "13w"], cwd=root)
    assert window.exit_code == 0
    assert [line.split()[0] for line in window.output.splitlines()[1:-1]] == ["2030-03-01"]
    assert window.output.splitlines()[0] == "coming in the next 91 days:"


def test_an_overdue_review_and_expiry_exit_1_naming_file_line_and_fix(root, cli):
    _schedule(root)
    result = cli(["due", "--today", "2031-02-02", "--within", "30d"], cwd=root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("exceptions/gov.yaml:5:12: the review of exception 'gov' was due on 2030-06-26 "
                        "(221 days ago); review the exception, then set 'review_by' to the next review date")
    assert lines[1] == ("exceptions/gov.yaml:6:10: exception 'gov' expired on 2031-01-31 (2 days ago) but is "
                        "still active; set 'status: retired' (or a later 'expires' if the contract was extended)")
    assert lines[-1] == "policy due: 2 overdue, 0 coming up to 2031-03-04 (as of 2031-02-02)"
    as_json = json.loads(cli(["due", "--today", "2031-02-02", "--format", "json"], cwd=root).output)
    assert [(d["kind"], d["id"], d["line"]) for d in as_json["overdue"]] == [("review", "gov", 5), ("expiry", "gov", 6)]
    assert as_json["coming"] == [] and as_json["today"] == "2031-02-02" and "fix" in as_json["overdue"][0]
    # once retired, nothing is due any more
    _add(root, "exceptions/gov.yaml", "status: active", "status: retired")
    assert cli(["due", "--today", "2031-02-02"], cwd=root).exit_code == 0


def test_bad_input_and_usage(root, cli):
    assert cli(["due", "--within", "soon"], cwd=root).exit_code == 2
    assert cli(["due", "--today", "2025-13-01"], cwd=root).exit_code == 2
    (root / "policy/models.yaml").write_text("models: [\n")
    broken = cli(["due"], cwd=root)
    assert broken.exit_code == 1 and "policy/models.yaml:" in broken.output and "fix them first" in broken.output


def test_calendar_ics_is_read_back_and_is_the_same_bytes_every_build(repo, tmp_path, monkeypatch):
    _schedule(repo.root)
    repo.commit("Schedule")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(repo.root, tmp_path / "a")
    build(repo.root, tmp_path / "b")
    raw = (tmp_path / "a" / "calendar.ics").read_bytes()
    assert raw == (tmp_path / "b" / "calendar.ics").read_bytes()
    assert b"\r\n" in raw and all(len(line) <= 75 for line in raw.split(b"\r\n"))  # RFC 5545 folding
    cal = icalendar.Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    starts = {str(e["UID"]): e.decoded("DTSTART") for e in events}
    assert starts["review.gov.2030-06-26@policy"].isoformat() == "2030-06-26"
    assert starts["expiry.gov.2031-01-31@policy"].isoformat() == "2031-01-31"
    assert starts["rule-effective.weapons.design.2030-03-01@policy"].isoformat() == "2030-03-01"
    assert not any("draft" in uid for uid in uids)
    committed = repo.git.head.commit.committed_datetime
    assert {e.decoded("DTSTAMP") for e in events} == {committed.astimezone(committed.tzinfo).replace(microsecond=0)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(repo.root, tmp_path / "c")
    later = icalendar.Calendar.from_ical((tmp_path / "c" / "calendar.ics").read_bytes())
    assert {e.decoded("DTSTAMP").timestamp() for e in later.walk("VEVENT")} == {1700000000}


def test_the_calendar_groups_the_rules_of_a_document_that_change_on_one_day(root):
    from generator.due import RULE_EFFECTIVE, calendar_items, due_items
    from generator.validate import load_corpus

    text = (root / "policy/main.yaml").read_text()
    for rule in ("weapons.design", "high-risk.legal"):
        text = text.replace(f"id: {rule}\n", f"id: {rule}\n        effective: 2030-03-01\n", 1)
    (root / "policy/main.yaml").write_text(text)
    corpus = load_corpus(root)
    assert sum(d.kind == RULE_EFFECTIVE for d in due_items(corpus)) == 2  # `policy due` names each rule
    grouped = [d for d in calendar_items(corpus) if d.kind == RULE_EFFECTIVE]
    assert len(grouped) == 1 and grouped[0].summary.endswith(": 2 rules take effect")
    assert "weapons.design: Weapons" in grouped[0].title and "high-risk.legal" in grouped[0].title
