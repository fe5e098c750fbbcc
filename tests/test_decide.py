"""Decisions (DESIGN §5): cases as data, checked against the Python library *and* the Rego
policy in three real Rego engines (OPA, rego-cpp, regorus); properties over random requests;
concurrency."""

from __future__ import annotations

import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from decision_support import POLICIES, Rego, build_bundle, check_expectation, load_cases

sys.path.insert(0, str(REPO / "benchmarks"))
from decision_requests import random_requests  # noqa: E402

CASES = load_cases()


@pytest.fixture(scope="session")
def bundles(tmp_path_factory):
    out = {}
    for name, root in POLICIES.items():
        bundle = build_bundle(root, tmp_path_factory.mktemp(name) / "site")
        out[name] = (bundle, Rego(bundle))
    return out


def test_there_are_at_least_40_cases_covering_every_reason():
    assert len(CASES) >= 40
    codes = {code for _, _, case in CASES for code in case["expect"].get("reasons", [])}
    assert codes >= {"unknown-rule", "not-in-force", "requirement", "exception", "no-exception",
                     "exception-unknown", "exception-not-permitting", "exception-not-active",
                     "exception-not-in-force", "customer-type", "missing-attestation", "unknown-model",
                     "model-above-asl-cap", "invalid-request"}


@pytest.mark.parametrize("policy, name, case", CASES, ids=[c[1] for c in CASES])
def test_case(bundles, policy, name, case):
    bundle, rego = bundles[policy]
    python = bundle.decide(case["request"]).to_dict()
    check_expectation(python, case["expect"])
    assert rego.decide(case["request"]) == python  # the Rego policy decides the same, byte for byte
    assert python["revision"] == bundle.revision and python["version"]


def test_decision_cites_version_and_revision(bundles):
    bundle, _ = bundles["example"]
    decision = bundle.decide({"use": "high-risk.legal", "at": "2025-01-01"})
    assert decision.version == bundle.data["documents"]["usage-policy"]["effective"]
    assert decision.revision == bundle.revision


def test_missing_date_means_today(bundles):
    bundle, rego = bundles["decide"]
    # d.scheduled has been in force since 2025-01-01, so "today" (2026 or later) finds it in force
    assert bundle.decide({"use": "d.scheduled"}).reasons[0]["code"] == "no-exception"
    assert rego.decide({"use": "d.scheduled"})["reasons"][0]["code"] == "no-exception"


def _requests(policy_data):
    rules = sorted(policy_data["rules"])
    exceptions = sorted(policy_data["exceptions"]) + ["unknown"]
    return st.fixed_dictionaries({
        "use": st.sampled_from(rules + ["no.such-rule"]),
        "customer": st.fixed_dictionaries({
            "type": st.sampled_from(["government", "research", "commercial"]),
            "exceptions": st.lists(st.sampled_from(exceptions), max_size=4),
            "attestations": st.lists(st.sampled_from(["auth", "vetted", "legal-authority", "vetted-agency"]), max_size=4),
        }),
        "model": st.sampled_from(sorted(policy_data["models"]) + ["unknown"]),
        "at": st.dates(min_value=__import__("datetime").date(2023, 1, 1),
                       max_value=__import__("datetime").date(2028, 12, 31)).map(lambda d: d.isoformat()),
    })


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_properties_over_random_requests(bundles, policy):
    bundle, _ = bundles[policy]

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=_requests(bundle.data))
    def check(request):
        decision = bundle.decide(request)
        rule = bundle.data["rules"].get(request["use"])
        in_force = rule is not None and (rule["effective"] or "") <= request["at"] and \
            (rule["retired"] is None or request["at"] < rule["retired"])
        if rule is not None and in_force and rule["effect"] == "prohibit" and not rule["waivable"]:
            assert not decision.allowed  # a non-waivable prohibition is never allowed
        if rule is None:
            assert not decision.allowed
        # removing a granted exception never turns a deny into an allow
        for exc_id in set(request["customer"]["exceptions"]):
            fewer = dict(request, customer=dict(request["customer"], exceptions=[
                e for e in request["customer"]["exceptions"] if e != exc_id]))
            assert bundle.decide(fewer).allowed <= decision.allowed
        if decision.allowed and decision.exception:
            assert decision.exception in request["customer"]["exceptions"]
            assert decision.purposes == tuple(bundle.data["exceptions"][decision.exception]["permits"][request["use"]])

    check()


def test_concurrent_decisions_agree_with_sequential(bundles):
    bundle, _ = bundles["example"]
    requests = list(random_requests(bundle.data, 4000, seed=11))
    expected = [bundle.decide(r).to_dict() for r in requests]
    errors: list = []

    def worker(offset: int) -> None:
        try:
            for i in range(offset, len(requests), 3):
                if bundle.decide(requests[i]).to_dict() != expected[i]:
                    errors.append(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n % 3,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_repeated_requests_are_remembered_per_bundle_and_day(bundles, monkeypatch):
    from generator.runtime import decide as module

    bundle, _ = bundles["example"]
    fresh = type(bundle)(bundle.data, bundle.files)
    request = {"use": "surveillance.intelligence-analysis", "at": "2025-01-01", "model": "claude-3-haiku",
               "customer": {"type": "government", "exceptions": ["government-foreign-intelligence"],
                            "attestations": ["legal-authority", "vetted-agency"]}}
    first = [fresh.decide(dict(request)) for _ in range(64)]  # one miss in 32 is remembered
    assert len(fresh._memo) == 1 and fresh.decide(dict(request)) is fresh.decide(dict(request))  # a lookup
    assert all(d == first[0] for d in first) and first[0].allowed
    with pytest.raises(TypeError):
        first[0].reasons[0]["code"] = "forged"  # shared decisions cannot be changed
    assert first[0].to_dict()["reasons"] == [{"code": "exception", "exception": "government-foreign-intelligence"}]
    # a request without 'at' means today: remembered for today only
    today = {"use": "d.scheduled"}
    other, _ = bundles["decide"]
    dated = type(other)(other.data, other.files)
    monkeypatch.setattr(module, "_clock", lambda: 86400 * 20000.5)  # 2024-10-04
    for _ in range(64):
        before = dated.decide(dict(today))
    monkeypatch.setattr(module, "_clock", lambda: 86400 * 19000.5)  # 2022-01-08: before d.scheduled
    monkeypatch.setattr(dated, "_today_utc", lambda: "2022-01-08")
    after = dated.decide(dict(today))
    assert before.reasons[0]["code"] == "no-exception" and after.reasons[0]["code"] == "not-in-force"
    # bounded
    monkeypatch.setattr(module, "MEMO_SIZE", 8)
    for n in range(2000):
        fresh.decide({"use": "weapons.design", "at": f"20{n % 100:02d}-01-01", "extra": n})
    assert len(fresh._memo) <= 8
    # not JSON-encodable as given: decided, never remembered, never raises
    assert fresh.decide({"use": {1, 2}}).reasons[0]["code"] == "invalid-request"
