"""The Python library and policy.rego in a real Rego engine (regorus) give identical decisions
for 10,000 seeded random requests, on the example policy and on a generated large corpus."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO
from decision_support import Rego
from generator.bundle.write import data_json
from generator.config import Settings
from generator.decide import Bundle
from generator.gitinfo import SourceRevision
from generator.validate import load_corpus
import json

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402
from requests import random_requests  # noqa: E402

N = 10_000


def _bundle(root) -> Bundle:
    corpus = load_corpus(root)
    files = {"usage_policy/policy.rego": (REPO / "generator" / "bundle" / "policy.rego").read_bytes()}
    data = json.loads(data_json(corpus, Settings(), SourceRevision("0" * 40, False, None)))
    return Bundle(data, files)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    root = tmp_path_factory.mktemp("large")
    generate(root, documents=100, rules=10_000, exceptions=1_000)
    return _bundle(root)


@pytest.mark.parametrize("which", ["example", "large"])
def test_python_and_rego_agree(which, large):
    bundle = _bundle(REPO) if which == "example" else large
    rego = Rego(bundle)
    seen_codes: set[str] = set()
    mismatches = []
    for request in random_requests(bundle.data, N, seed=2024):
        python = bundle.decide(request).to_dict()
        other = rego.decide(request)
        if python != other:
            mismatches.append((request, python, other))
        seen_codes.update(r["code"] for r in python["reasons"])
    assert mismatches[:3] == []
    # the random requests reach every branch of the decision rules
    if which == "large":
        assert seen_codes >= {"not-in-force", "exception-not-active"}
    assert seen_codes >= {"unknown-rule", "requirement", "exception", "no-exception", "exception-unknown",
                          "exception-not-permitting", "customer-type", "missing-attestation",
                          "unknown-model", "model-above-asl-cap", "invalid-request", "exception-not-in-force"}
