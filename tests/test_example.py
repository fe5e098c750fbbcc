"""The example policy in the repository: the ids and properties that acceptance checks rely on."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import REPO
from generator.validate import load_corpus


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO, today=dt.date(2026, 1, 1), strict=True)


NON_WAIVABLE = ["disinformation.campaigns", "weapons.design", "censorship.government",
                "cyber.malicious-operations", "surveillance.domestic"]


def test_rules(corpus):
    analysis = corpus.rules["surveillance.intelligence-analysis"]
    assert (analysis.effect, analysis.waivable) == ("prohibit", True)
    for rule_id in NON_WAIVABLE:
        assert (corpus.rules[rule_id].effect, corpus.rules[rule_id].waivable) == ("prohibit", False)
    legal = corpus.rules["high-risk.legal"]
    assert legal.effect == "require" and legal.obligations


JUNE_2024_STANDARDS = {"child-safety", "critical-infrastructure", "violence-hate", "privacy", "weapons-goods",
                       "harmful-content", "misinformation", "elections", "law-enforcement", "fraud", "sexual-content"}


def test_parts_and_universal_standards(corpus):
    doc = corpus.documents_by_id["usage-policy"]
    assert [s.id for s in doc.sections][:3] == ["universal", "high-risk", "disclosure"]
    universal = {s.id for s in doc.sections[0].sections}
    # the twelve June 2024 headings (the platform one was renamed platform-integrity in 2025)
    assert JUNE_2024_STANDARDS <= universal and universal & {"platform-abuse", "platform-integrity"}
    assert all(r.effect == "require" and r.obligations for r in doc.sections[1].rules)
    assert doc.effective in (dt.date(2024, 6, 6), dt.date(2025, 9, 15))


def test_hidden_check_rules_are_in_force_before_the_september_2025_version(corpus):
    for rule_id in [*NON_WAIVABLE, "surveillance.intelligence-analysis", "high-risk.legal"]:
        assert corpus.rules[rule_id].in_force(dt.date(2025, 9, 14))
        assert corpus.rules[rule_id].in_force(dt.date(2025, 9, 15))


def test_models(corpus):
    asl = {m.id: m.asl for m in corpus.models}
    assert asl["claude-3-haiku"] == asl["claude-3-sonnet"] == 2 and asl["claude-opus-4"] == 3


def test_government_exception(corpus):
    exc = corpus.exceptions_by_id["government-foreign-intelligence"]
    assert exc.status == "active" and exc.effective == dt.date(2024, 6, 26)
    assert exc.customer_types == ("government",) and exc.attestations and exc.max_asl == 2
    assert [(p.rule, p.purposes) for p in exc.permits] == [("surveillance.intelligence-analysis", (
        "combating human trafficking", "identifying covert influence or sabotage campaigns",
        "advance warning of potential military activities"))]
    assert set(NON_WAIVABLE) <= set(exc.retains)


def test_example_files_name_their_schema():
    for path in [*REPO.glob("policy/*.yaml"), *REPO.glob("exceptions/*.yaml")]:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=../generator/schema/"), path
        assert (path.parent / first.split("=", 1)[1]).resolve().is_file()
