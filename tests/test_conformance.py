"""The bundle `policy build` writes, in three real Rego engines (OPA's own Go engine, Microsoft's
rego-cpp, regorus), loaded as OPA's bundle plugin loads it: whole decision objects equal the
Python library's on seeded hostile requests. A smaller count here; scripts/conformance.py runs
the full count (20,000 + 5,000) in CI. And bundles OPA would refuse fail, here and in OPA."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import REPO
from engines import ENGINES, NO_INPUT, REASON_CODES, EngineRefused, conformance, regocpp_misorders
from generator.build import build
from generator.bundle.archive import read_bundle
from generator.bundle.layout import DATA_FILE, LEGACY_DATA_FILE, POLICY_FILE, mount
from generator.bundle.sign import BundleError
from generator.runtime import Bundle
from generator.opa import load_bindings

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402

REACHED: set[str] = set()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    generate(root, documents=8, rules=400, exceptions=60, varied=True)
    return root


@pytest.mark.parametrize("which, count", [("example", 2_000), ("generated", 1_000)])
def test_every_engine_decides_as_the_library(which, count, generated, tmp_path):
    root = REPO if which == "example" else generated
    mismatches, codes, total, set_aside = conformance(root, count, seed=2024, workdir=tmp_path)
    REACHED.update(codes)
    assert total > count
    assert set_aside["opa"] == set_aside["regorus"] == 0 and set_aside["rego-cpp"] < total // 50
    for engine, found in mismatches.items():
        assert found[:3] == [], f"{engine} disagrees with the library on {len(found)} of {total} requests"


def test_every_documented_reason_code_was_reached():
    if not REACHED:
        pytest.skip("runs after the conformance tests")
    assert REACHED == REASON_CODES


@pytest.fixture(scope="module")
def example_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build(REPO, out)
    return read_bundle(out / "bundle" / "bundle.tar.gz")


def test_the_layout_is_two_roots_that_opa_activates(example_files):
    manifest = json.loads(example_files[".manifest"])
    assert manifest["roots"] == ["usage_policy", "usage_policy_data"]
    assert manifest["rego_version"] == 1
    assert sorted(example_files) == [".manifest", POLICY_FILE, DATA_FILE]
    opa = ENGINES["opa"](example_files)
    assert opa.decide({"use": "weapons.design", "at": "2025-01-01"})["reasons"] == [{"code": "no-exception"}]
    # the data is where the docs say: data.usage_policy_data, beside (not inside) the package
    assert opa.engine.eval_query("x := data.usage_policy_data.revision")[0]["x"] == manifest["revision"]


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("request_", [NO_INPUT, None, [], "x", 3, {}, {"use": 1}],
                         ids=["no-input", "null", "list", "string", "number", "empty", "use-number"])
def test_total_decisions_for_any_input(engine, request_, example_files):
    decision = ENGINES[engine](example_files).decide(request_)
    assert decision["allowed"] is False and decision["reasons"][0]["code"] == "invalid-request"
    assert decision["version"] == json.loads(example_files[DATA_FILE])["version"]


def _legacy(files: dict[str, bytes]) -> dict[str, bytes]:
    """The layout of 0.1 bundles: data.json inside the policy's package (one root)."""
    legacy = dict(files)
    legacy[LEGACY_DATA_FILE] = legacy.pop(DATA_FILE)
    manifest = json.loads(legacy[".manifest"])
    manifest["roots"] = ["usage_policy"]
    legacy[".manifest"] = json.dumps(manifest).encode()
    return legacy


def test_opa_itself_refuses_the_old_layout_and_so_do_we(example_files):
    legacy = _legacy(example_files)
    bindings = load_bindings()  # OPA's own engine, given the files directly (no check of ours)
    engine = bindings.OpaEngine()
    engine.add_data(json.loads(legacy[LEGACY_DATA_FILE]), path="usage_policy")
    with pytest.raises(bindings.OpaError, match="conflicting rule for data path usage_policy/version"):
        engine.add_policy(POLICY_FILE, legacy[POLICY_FILE].decode())
        engine.eval_document("usage_policy.decision", {"use": "weapons.design"})
    with pytest.raises(BundleError, match="lies inside the namespace of 'package usage_policy'"):
        mount(legacy)
    with pytest.raises(BundleError, match="rebuild it"):
        Bundle.from_files(legacy)


def _with_manifest(files, **fields):
    manifest = json.loads(files[".manifest"])
    manifest.update(fields)
    return dict(files, **{".manifest": json.dumps(manifest).encode()})


@pytest.mark.parametrize("change, message", [
    ({"roots": ["usage_policy", "usage_policy/data"]}, "overlapped roots"),
    ({"roots": ["usage_policy", ""]}, "overlapped roots"),
    ({"roots": ["usage_policy"]}, "do not permit data at path '/usage_policy_data'"),
    ({"roots": ["usage_policy_data"]}, "do not permit 'package usage_policy'"),
    ({"roots": "usage_policy"}, "'roots' must be a list"),
    ({"revision": 7}, "'revision' must be text"),
])
def test_bundles_opa_would_refuse_are_refused_by_every_loader(example_files, change, message):
    bad = _with_manifest(example_files, **change)
    with pytest.raises(BundleError, match=message):
        mount(bad)
    with pytest.raises(BundleError, match=message):
        Bundle.from_files(bad)
    for name, engine in ENGINES.items():
        with pytest.raises((BundleError, EngineRefused)):
            engine(bad)


def test_a_second_data_file_that_overwrites_is_a_merge_conflict(example_files):
    bad = dict(example_files, **{"usage_policy_data/revision/data.json": b'"other"'})
    with pytest.raises(BundleError, match="written twice"):
        mount(bad)


def test_segment_wise_roots_as_in_opa():
    from generator.bundle.layout import contains, overlap

    assert overlap("a", "a/b") and overlap("", "x") and not overlap("a", "another_root")
    assert not overlap("usage_policy", "usage_policy_data")
    assert contains("usage_policy", "usage_policy/decision") and not contains("usage_policy", "usage_policy_data")


def test_policy_decide_answers_the_same_through_opa(tmp_path):
    import subprocess

    from click.testing import CliRunner

    from engines import SPECIAL_INPUTS
    from generator.cli import main

    build(REPO, tmp_path / "site")
    lines = [json.dumps(r) for r in SPECIAL_INPUTS if r is not NO_INPUT]
    lines += [json.dumps({"use": "surveillance.intelligence-analysis", "at": day, "model": "claude-3-haiku",
                          "customer": {"type": "government", "exceptions": ["government-foreign-intelligence"],
                                       "attestations": ["legal-authority", "vetted-agency"]}})
              for day in ("2024-06-25", "2024-06-26", "2025-09-15")]
    (tmp_path / "requests.jsonl").write_text("\n".join(lines) + "\n")
    outputs = {}
    for engine in ("python", "opa"):
        result = CliRunner().invoke(main, ["decide", "--bundle", str(tmp_path / "site" / "bundle"),
                                           "--input", str(tmp_path / "requests.jsonl"), "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs[engine] = result.output
    assert outputs["opa"] == outputs["python"]  # byte for byte, fields in the same order
    assert [json.loads(x)["allowed"] for x in outputs["opa"].splitlines()[-3:]] == [False, True, True]
    # without OPA's engine: a usage error that says how to get it, never a traceback
    env = {**__import__("os").environ, "POLICY_OPA_PATH": str(tmp_path / "nowhere")}
    run = subprocess.run([sys.executable, "-m", "generator", "decide", "--bundle", str(tmp_path / "site" / "bundle"),
                          "--engine", "opa"], input="{}", capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "fetch-engines.sh" in run.stderr and "Traceback" not in run.stderr


def test_the_rego_cpp_ordering_bug_is_real_and_only_set_aside_where_it_applies(example_files):
    """The requests set aside for rego-cpp are exactly those its documented bug affects: on one,
    rego-cpp really orders the reasons differently from OPA; on a request with the same
    exceptions in an order its comparison gets right, it agrees."""
    base = {"use": "surveillance.intelligence-analysis", "at": "2025-01-01", "model": "claude-3-haiku",
            "customer": {"type": "government", "attestations": []}}
    bitten = {**base, "customer": {**base["customer"], "exceptions": ["government-foreign-intelligence ",
                                                                      "government-foreign-intelligence"]}}
    fine = {**base, "customer": {**base["customer"], "exceptions": ["government-foreign-intelligence",
                                                                    "government-foreign-intelligencf"]}}
    assert regocpp_misorders(bitten) and not regocpp_misorders(fine)
    opa, cpp = ENGINES["opa"](example_files), ENGINES["rego-cpp"](example_files)
    assert cpp.decide(bitten)["reasons"] == list(reversed(opa.decide(bitten)["reasons"]))
    assert cpp.decide(fine) == opa.decide(fine)
