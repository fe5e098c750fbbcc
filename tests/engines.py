"""The three Rego engines the bundle is proven in, each loaded as OPA's bundle plugin loads a
bundle (generator.bundle.layout.mount: roots checked, each data.json mounted at its folder's
path, each .rego module added), each answering data.usage_policy.decision for one request.

- OPA's own Go engine (v1.20.2, opa-golib-python-bindings 0.4.4): generator.opa.OpaDecider,
  the same adapter `policy decide --engine opa` uses. The reference.
- Microsoft's rego-cpp (regopy, pinned in the test extras).
- regorus (gordon-to-regorus, pinned in the test extras).

``NO_INPUT`` asks for a decision with no input document at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from generator.bundle.layout import DECISION_PATH, DECISION_QUERY, mount
from generator.opa import ENV_PATH, NO_INPUT, OpaDecider

REPO = Path(__file__).parent.parent
os.environ.setdefault(ENV_PATH, str(REPO / ".engines" / "opa"))

__all__ = ["ENGINES", "NO_INPUT", "OpaDecider", "RegoCppDecider", "RegorusDecider", "load_engine"]


class EngineRefused(Exception):
    """The engine would not load the bundle."""


class RegoCppDecider:
    """rego-cpp compiles the modules and data once into its own plan (a "build" with the decision
    as entrypoint) and runs it per request. It runs in a process of its own (regocpp_worker.py),
    because regopy crashes in a process that loaded another libstdc++ first."""

    engine_name = "rego-cpp"

    def __init__(self, files: dict[str, bytes], where: str = "bundle"):
        import subprocess
        import sys

        mounted = mount(files, where)
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "regocpp_worker.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
                                     env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        answer = self._ask({"data": mounted.data, "modules": mounted.modules, "entrypoint": DECISION_PATH})
        if "error" in answer:
            self.close()
            raise EngineRefused(answer["error"])

    def _ask(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise EngineRefused(f"rego-cpp's process ended (exit {self.proc.wait()})")
        return json.loads(line)

    def decide(self, request: Any = NO_INPUT) -> dict:
        answer = self._ask({"no_input": True} if request is NO_INPUT else {"input": request})
        if "error" in answer:
            raise EngineRefused(f"rego-cpp: {answer['error']}")
        return answer["ok"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class RegorusDecider:
    engine_name = "regorus"

    def __init__(self, files: dict[str, bytes], where: str = "bundle"):
        import regorus

        mounted = mount(files, where)
        engine = regorus.Engine()
        try:
            engine.add_data_json(json.dumps(mounted.data))
            for name, source in mounted.modules.items():
                engine.add_policy(name, source)
        except RuntimeError as exc:
            raise EngineRefused(f"regorus refuses the bundle: {exc}") from None
        self.engine = engine
        self._bare = engine.clone()

    def decide(self, request: Any = NO_INPUT) -> dict:
        if request is NO_INPUT:
            return self._bare.eval_rule(DECISION_QUERY)
        self.engine.set_input_json(json.dumps(request, ensure_ascii=False))
        return self.engine.eval_rule(DECISION_QUERY)


ENGINES = {"opa": OpaDecider, "rego-cpp": RegoCppDecider, "regorus": RegorusDecider}


def load_engine(name: str, files: dict[str, bytes]):
    return ENGINES[name](files)


REASON_CODES = frozenset({
    "invalid-request", "unknown-rule", "not-in-force", "requirement", "exception", "no-exception",
    "exception-unknown", "exception-not-permitting", "exception-not-active", "exception-not-in-force",
    "customer-type", "missing-attestation", "unknown-model", "model-above-asl-cap"})


def regocpp_misorders(request) -> bool:
    """rego-cpp's known bug (docs/bundle.md): it orders strings by their escaped, quoted JSON
    text, so "a" sorts after "a " and "é" before "e". The policy tries a customer's exceptions
    in id order (DESIGN §5); when the listed ids are ones rego-cpp would put in another order,
    its reasons come in that order. True for such requests (rego-cpp's answer is then set aside
    and counted, never compared; OPA and regorus still decide them)."""
    if not isinstance(request, dict) or not isinstance(request.get("customer"), dict):
        return False
    listed = request["customer"].get("exceptions")
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        return False
    distinct = set(listed)
    return sorted(distinct) != sorted(distinct, key=json.dumps)


KNOWN_BUGS = {"rego-cpp": regocpp_misorders}


def compare(bundle, engines: dict, requests) -> tuple[dict[str, list], set[str], int, dict[str, int]]:
    """Decide every request in the Python library and in each engine; whole decision objects
    are compared, nothing normalized. Returns (mismatches per engine, reason codes reached,
    number of requests, requests set aside per engine for a documented engine bug). A request
    the engine cannot answer counts as a mismatch."""
    mismatches: dict[str, list] = {name: [] for name in engines}
    set_aside = {name: 0 for name in engines}
    codes: set[str] = set()
    count = 0
    for request in requests:
        count += 1
        python = bundle.decide(None if request is NO_INPUT else request).to_dict()
        codes.update(r["code"] for r in python["reasons"])
        for name, engine in engines.items():
            if name in KNOWN_BUGS and KNOWN_BUGS[name](request):
                set_aside[name] += 1
                continue
            try:
                other = engine.decide(request)
            except Exception as exc:  # an engine error is a disagreement, reported with the request
                other = f"{type(exc).__name__}: {exc}"
            if other != python:
                mismatches[name].append((request, python, other))
    return mismatches, codes, count, set_aside


SPECIAL_INPUTS = [NO_INPUT, None, [], [1], "weapons.design", 0, 1.5, True, False, {}, {"use": None},
                  {"use": 5}, {"use": ["weapons.design"]}, {"use": {"id": "weapons.design"}}]


def conformance(root: Path, count: int, seed: int, workdir: Path, engines=("opa", "rego-cpp", "regorus")):
    """Build the bundle of the policy at ``root`` (as `policy build` does), load it in the
    library and in each engine, and compare decisions on SPECIAL_INPUTS plus ``count`` seeded
    hostile random requests. Returns what ``compare`` returns."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from decision_requests import random_requests
    from generator.build import build
    from generator.bundle.archive import read_bundle
    from generator.runtime import Bundle

    build(root, workdir / "site")
    files = read_bundle(workdir / "site" / "bundle" / "bundle.tar.gz")
    bundle = Bundle.from_files(files)
    loaded = {name: ENGINES[name](files) for name in engines}
    requests = SPECIAL_INPUTS + list(random_requests(bundle.data, count, seed=seed, hostile=True,
                                                     no_input=NO_INPUT))
    return compare(bundle, loaded, requests)
