"""Every change of the semantic diff is classed stricter, looser, mixed or editorial: one real
edit of the sources per case, both sides validated, the class read from the diff."""

from __future__ import annotations

import shutil

import pytest

from conftest import build_root
from generator.history.diff import diff_corpora
from generator.history.textdiff import format_markdown
from generator.validate import load_corpus

MAIN, GOV = "policy/main.yaml", "exceptions/gov.yaml"
EXTRA_RULE = ("      - id: high-risk.legal\n",
              "      - id: spare.rule\n        title: Spare\n        text: A spare rule.\n        waivable: true\n"
              "      - id: high-risk.legal\n")
DRAFT = "id: draft\ntitle: Draft\nstatus: draft\n"


def _edit(root, rel, old, new):
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1))


CASES = [
    # (name, edits made before the "old" state, edits between old and new, (kind, id), class)
    ("rule made waivable", [], [(MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        waivable: true\n")],
     ("rules", "weapons.design"), "looser"),
    ("rule made non-waivable", [EXTRA_RULE], [(MAIN, "A spare rule.\n        waivable: true\n", "A spare rule.\n")],
     ("rules", "spare.rule"), "stricter"),
    ("rule added", [], [EXTRA_RULE], ("rules", "spare.rule"), "stricter"),
    ("rule retired", [], [(MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        retired: 2030-01-01\n")],
     ("rules", "weapons.design"), "looser"),
    ("rule back in force", [(MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        retired: 2030-01-01\n")],
     [(MAIN, "        retired: 2030-01-01\n", "")], ("rules", "weapons.design"), "stricter"),
    ("rule in force later", [], [(MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        effective: 2030-01-01\n")],
     ("rules", "weapons.design"), "looser"),
    ("rule in force sooner", [(MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        effective: 2030-01-01\n")],
     [(MAIN, "effective: 2030-01-01", "effective: 2029-01-01")], ("rules", "weapons.design"), "stricter"),
    ("obligation added", [(MAIN, "  - id: human-review\n", "  - id: disclosure\n    title: Told\n  - id: human-review\n")],
     [(MAIN, "obligations: [human-review]", "obligations: [human-review, disclosure]")], ("rules", "high-risk.legal"), "stricter"),
    ("rule reworded", [], [(MAIN, "Designing weapons.", "Designing or building weapons.")], ("rules", "weapons.design"), "editorial"),
    ("purpose added", [], [(GOV, "purposes: [combating human trafficking]", "purposes: [combating human trafficking, b]")],
     ("exceptions", "gov"), "looser"),
    ("permitted rule added", [EXTRA_RULE], [(GOV, "permits:\n", "permits:\n  - rule: spare.rule\n    purposes: [a]\n")],
     ("exceptions", "gov"), "looser"),
    ("permitted rule removed", [EXTRA_RULE, (GOV, "permits:\n", "permits:\n  - rule: spare.rule\n    purposes: [a]\n")],
     [(GOV, "  - rule: spare.rule\n    purposes: [a]\n", "")], ("exceptions", "gov"), "stricter"),
    ("eligibility relaxed", [], [(GOV, "customer_types: [government]", "customer_types: [government, nonprofit]")],
     ("exceptions", "gov"), "looser"),
    ("attestation dropped", [], [(GOV, "attestations: [legal-authority]", "attestations: []")], ("exceptions", "gov"), "looser"),
    ("model cap lowered", [(GOV, "max_asl: 2", "max_asl: 3")], [(GOV, "max_asl: 3", "max_asl: 2")],
     ("exceptions", "gov"), "stricter"),
    ("expiry set", [], [(GOV, "review_by: 2030-06-26", "review_by: 2030-06-26\nexpires: 2031-01-01")],
     ("exceptions", "gov"), "stricter"),
    ("review date moved", [], [(GOV, "review_by: 2030-06-26", "review_by: 2031-06-26")], ("exceptions", "gov"), "editorial"),
    ("exception retired", [], [(GOV, "status: active", "status: retired")], ("exceptions", "gov"), "stricter"),
    ("exception starts later", [], [(GOV, "effective: 2024-06-26", "effective: 2024-07-26")], ("exceptions", "gov"), "stricter"),
    ("narrower and wider at once", [], [(GOV, "attestations: [legal-authority]", "attestations: [legal-authority, x]"),
                                       (GOV, "max_asl: 2", "max_asl: 3")], ("exceptions", "gov"), "mixed"),
    ("model level raised", [], [("policy/models.yaml", "asl: 2", "asl: 1")], ("models", "small"), "looser"),
    ("section renamed", [], [(MAIN, "  - id: standards\n    title: Standards", "  - id: core\n    title: Core")],
     ("sections", "standards"), "editorial"),
    ("version date", [], [(MAIN, "effective: 2024-06-06", "effective: 2025-01-01")], ("documents", "main"), "editorial"),
]


@pytest.mark.parametrize("name, before, edits, where, expected", CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_change_is_classed(tmp_path, name, before, edits, where, expected):
    root = build_root(tmp_path / "root")
    for edit in before:
        _edit(root, *edit) if len(edit) == 3 else _edit(root, MAIN, *edit)
    old = load_corpus(root)
    for edit in edits:
        _edit(root, *edit) if len(edit) == 3 else _edit(root, MAIN, *edit)
    diff = diff_corpora(old, load_corpus(root))
    classes = {(key, e["id"]): e["class"] for key in ("documents", "sections", "rules", "exceptions", "models")
               for e in diff[key]}
    assert classes[where] == expected, classes
    assert sum(diff["classes"].values()) == len(classes)


def test_a_draft_exception_changes_nothing_and_markdown_leads_with_looser(tmp_path):
    root = build_root(tmp_path / "root")
    shutil.copyfile(root / GOV, root / "exceptions/draft.yaml")
    _edit(root, "exceptions/draft.yaml", "id: gov\ntitle: Government analysis\nstatus: active\n", DRAFT)
    old = load_corpus(root)
    _edit(root, "exceptions/draft.yaml", "max_asl: 2", "max_asl: 3")  # a draft grants nothing
    _edit(root, MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        waivable: true\n")
    _edit(root, GOV, "attestations: [legal-authority]", "attestations: [legal-authority, vetted-agency]")
    diff = diff_corpora(old, load_corpus(root))
    assert {e["id"]: e["class"] for e in diff["exceptions"]} == {"draft": "editorial", "gov": "stricter"}
    text = format_markdown(diff, "policy diff A .. B")
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == ["#### Looser: the policy allows more (1)",
                        "#### Stricter: the policy allows less or asks for more (1)",
                        "#### Editorial: no decision changes (1)"]
    assert "- rule `weapons.design` changed: Weapons" in text
    assert text.startswith("### policy diff A .. B\n\n**1 looser, 1 stricter, 1 editorial.**")


def test_a_diff_without_exception_entries_never_walks_the_exceptions(tmp_path):
    """A document page's diff (the changelog and the site make one per document version) is
    classed without going over every exception of both models: that made the changelog
    quadratic (1.6 s of 5.8 at 5,000 documents)."""
    from generator.history.classify import classify

    root = build_root(tmp_path / "old")
    old = load_corpus(root)
    _edit(root, MAIN, "text: Designing weapons.\n", "text: Designing weapons.\n        waivable: true\n")
    new = load_corpus(root)

    class NoExceptions:
        def __init__(self, corpus):
            self.corpus = corpus

        def __getattr__(self, name):
            if name == "exceptions":
                raise AssertionError("the exceptions were walked")
            return getattr(self.corpus, name)

    page = diff_corpora(old, new, documents=("main",), exceptions=False)
    assert page["rules"] and not page["exceptions"]
    classed = classify(page, NoExceptions(old), NoExceptions(new))
    assert [r["class"] for r in classed["rules"]] == ["looser"]
