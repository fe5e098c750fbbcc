"""Bundles built for decision tests, and the Rego engine loaded with the same bundle."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from conftest import FIXTURES, REPO
from generator.build import build
from generator.decide import Bundle

CASES = Path(__file__).parent / "decisions"
POLICIES = {"example": REPO, "decide": FIXTURES / "decide"}


def build_bundle(root: Path, out: Path) -> Bundle:
    build(root, out)
    return Bundle.load(out / "bundle" / "bundle.tar.gz")


class Rego:
    """policy.rego from a bundle, evaluated in process by regorus (a Rust Rego engine)."""

    def __init__(self, bundle: Bundle):
        import regorus

        self.engine = regorus.Engine()
        self.engine.add_policy("usage_policy/policy.rego", bundle.files["usage_policy/policy.rego"].decode())
        self.engine.add_data_json(json.dumps({"usage_policy": bundle.data}))

    def decide(self, request) -> dict:
        self.engine.set_input_json(json.dumps(request))
        return self.engine.eval_rule("data.usage_policy.decision")


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
