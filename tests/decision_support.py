"""Bundles built for decision tests, and the Rego engines loaded with the same bundle."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import FIXTURES, REPO
from generator.build import build
from generator.runtime import Bundle

CASES = Path(__file__).parent / "decisions"
POLICIES = {"example": REPO, "decide": FIXTURES / "decide"}


def build_bundle(root: Path, out: Path) -> Bundle:
    build(root, out)
    return Bundle.load(out / "bundle" / "bundle.tar.gz")


class Rego:
    """The bundle's policy.rego in all three engines (OPA, rego-cpp, regorus; see engines.py).
    ``decide`` asks each and returns OPA's answer after checking that the other two agree."""

    def __init__(self, bundle: Bundle):
        from engines import ENGINES

        self.engines = {name: cls(bundle.files) for name, cls in ENGINES.items()}

    def decide(self, request) -> dict:
        answers = {name: engine.decide(request) for name, engine in self.engines.items()}
        assert answers["rego-cpp"] == answers["opa"], answers
        assert answers["regorus"] == answers["opa"], answers
        return answers["opa"]


def load_cases() -> list[tuple[str, str, dict]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            out.append((doc["policy"], f"{path.stem}: {case['name']}", case))
    return out


def check_expectation(decision: dict, expect: dict) -> None:
    assert decision["allowed"] is expect["allowed"], decision
    for key in ("rule", "effect", "exception", "purposes", "obligations"):
        if key in expect:
            assert decision[key] == expect[key], (key, decision)
    if "reasons" in expect:
        assert [r["code"] for r in decision["reasons"]] == expect["reasons"], decision
    if "reason_exceptions" in expect:
        assert [r.get("exception") for r in decision["reasons"]] == expect["reason_exceptions"], decision
