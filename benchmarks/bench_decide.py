"""Benchmark the decision library against three Rego engines, on a large bundle.

    python benchmarks/bench_decide.py [--decisions 1000000] [--engine-decisions 2000]

Generates the corpus (10,000 rules in 100 documents, 1,000 exceptions), builds and signs its
bundle, then in one process, on the same seeded requests:
  load      Bundle.load(bundle.tar.gz, public_key=...) in a fresh interpreter (cold: imports,
            schema, signature, parsing, indexing) and warm; and the time each engine takes to
            take the bundle as OPA's bundle plugin gives it (mount, add data, add modules, compile)
  python    1,000,000 decisions with generator.runtime on one core
  engines   a prefix of the same requests through OPA's own Go engine (opa-golib-python-bindings,
            OPA v1.20.2), Microsoft's rego-cpp (regopy) and regorus, each in this process
Bars: load < 200 ms; the library >= 300,000 decisions/s and >= 100x OPA's in-process engine.
Every engine's decisions on the sample are compared with the library's (they must be identical).
Needs the test extras and scripts/fetch-engines.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("POLICY_OPA_PATH", str(HERE.parent / ".engines" / "opa"))
from corpus import generate  # noqa: E402
from decision_requests import random_requests  # noqa: E402

from generator.build import build  # noqa: E402
from generator.bundle.layout import DECISION_PATH, DECISION_QUERY, mount  # noqa: E402
from generator.bundle.sign import generate_keypair  # noqa: E402
from generator.runtime import Bundle  # noqa: E402
from generator.opa import OpaDecider  # noqa: E402

COLD = """
import sys, time
start = time.perf_counter()
from generator.runtime import Bundle
Bundle.load(sys.argv[1], public_key=sys.argv[2])
print(time.perf_counter() - start)
"""


class RegoCpp:
    def __init__(self, files):
        import regopy

        mounted = mount(files)
        self.interp = regopy.Interpreter()
        self.interp.add_data_json(json.dumps(mounted.data))
        for name, source in mounted.modules.items():
            self.interp.add_module(name, source)
        self.plan = self.interp.build(None, [DECISION_PATH])

    def decide_text(self, text: str) -> dict:
        self.interp.set_input_term(text)
        return json.loads(str(self.interp.query_bundle_entrypoint(self.plan, DECISION_PATH)))["expressions"][0]


class Regorus:
    def __init__(self, files):
        import regorus

        mounted = mount(files)
        self.engine = regorus.Engine()
        self.engine.add_data_json(json.dumps(mounted.data))
        for name, source in mounted.modules.items():
            self.engine.add_policy(name, source)

    def decide_text(self, text: str) -> dict:
        self.engine.set_input_json(text)
        return self.engine.eval_rule(DECISION_QUERY)


class Opa:
    def __init__(self, files):
        self.decider = OpaDecider(files)
        self.engine = self.decider.engine
        self.path = DECISION_PATH.replace("/", ".").encode()

    def decide_text(self, text: str) -> dict:
        envelope = self.engine._call(self.engine._lib.OpaEvalDocument, self.path, text.encode(), 0, 0)
        return envelope["result"][0]["expressions"][0]["value"]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--engine-decisions", type=int, default=2_000)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="policy-bench-decide-"))
    try:
        generate(work / "corpus")
        _, public = generate_keypair(work / "keys")
        build(work / "corpus", work / "site", sign_key=work / "keys" / "private.pem")
        archive = work / "site" / "bundle" / "bundle.tar.gz"
        print(f"bundle: 10,000 rules, 1,000 exceptions, {archive.stat().st_size / 1e6:.2f} MB compressed, "
              f"{(work / 'site' / 'bundle' / 'data.json').stat().st_size / 1e6:.2f} MB data.json")

        colds = [float(subprocess.run([sys.executable, "-c", COLD, str(archive), str(public)], check=True,
                                      capture_output=True, text=True).stdout) for _ in range(3)]
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            bundle = Bundle.load(archive, public_key=public)
            warm.append(time.perf_counter() - start)
        print(f"load, python: {min(colds) * 1000:.0f} ms cold (new interpreter, imports included), "
              f"{min(warm) * 1000:.0f} ms warm (bar: < 200 ms) {'PASS' if min(colds) < 0.2 else 'FAIL'}")

        requests = list(random_requests(bundle.data, args.decisions, seed=1))
        repeated = [requests[i % 100] for i in range(len(requests))]  # real traffic: a few shapes
        rates: dict[str, list[float]] = {"all-distinct": [], "100 distinct": []}
        for _ in range(3):  # interleaved rounds, a fresh bundle (empty memo) each time; medians
            for name, stream in (("all-distinct", requests), ("100 distinct", repeated)):
                fresh = Bundle(bundle.data, bundle.files)
                decide = fresh.decide
                start = time.perf_counter()
                for request in stream:
                    decide(request)
                rates[name].append(len(stream) / (time.perf_counter() - start))
        python_rate = statistics.median(rates["all-distinct"])
        repeated_rate = statistics.median(rates["100 distinct"])
        print(f"python, all-distinct requests: {len(requests):,} decisions, {python_rate:,.0f} per second "
              f"(bar: >= 300,000) {'PASS' if python_rate >= 300_000 else 'FAIL'}")
        print(f"python, 100 distinct requests repeated: {repeated_rate:,.0f} per second "
              f"(bar: >= 1,000,000) {'PASS' if repeated_rate >= 1_000_000 else 'FAIL'}")
        decide = bundle.decide

        sample = requests[: args.engine_decisions]
        encoded = [json.dumps(r) for r in sample]
        expected = [decide(r).to_dict() for r in sample]
        rates = {}
        engines = (("opa", Opa, "OPA v1.20.2 via opa-golib-python-bindings 0.4.4"),
                   ("rego-cpp", RegoCpp, f"regopy {_version('regopy')}"),
                   ("regorus", Regorus, f"regorus {_version('gordon-to-regorus')}"))
        for name, cls, label in engines:
            start = time.perf_counter()
            engine = cls(bundle.files)
            loaded = time.perf_counter() - start
            results = []
            start = time.perf_counter()
            for text in encoded:
                results.append(engine.decide_text(text))
            rates[name] = len(sample) / (time.perf_counter() - start)
            same = sum(1 for a, b in zip(results, expected) if a == b)
            print(f"{name} ({label}): load {loaded * 1000:.0f} ms; {len(sample):,} decisions, "
                  f"{rates[name]:,.0f} per second; identical to the library: {same:,}/{len(sample):,}")
        ratio = python_rate / rates["opa"]
        print(f"python / OPA: {ratio:,.0f}x (bar: >= 100x) {'PASS' if ratio >= 100 else 'FAIL'}; "
              f"python / rego-cpp: {python_rate / rates['rego-cpp']:,.0f}x; "
              f"python / regorus: {python_rate / rates['regorus']:,.0f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
