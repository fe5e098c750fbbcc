"""Benchmark the decision library against the Rego engine, on a large bundle.

    python benchmarks/bench_decide.py [--decisions 1000000] [--rego-decisions 20000]

Generates the corpus (10,000 rules in 100 documents, 1,000 exceptions), builds and signs its
bundle, then in one process:
  load        Bundle.load(bundle.tar.gz, public_key=...) in a fresh interpreter (cold: imports,
              schema compilation, signature check, parsing, indexing), and warm in this one
  python      1,000,000 seeded random decisions with generator.decide, on one core
  rego        the same requests (a prefix of them) evaluated by regorus in process on the
              bundle's policy.rego and data.json
Bars (issue 4): load < 200 ms; >= 300,000 decisions/s; >= 20x the Rego engine's throughput.
The Python and Rego decisions on the Rego sample are also compared (they must be identical).
"""

from __future__ import annotations

import argparse
from importlib import metadata
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402
from requests import random_requests  # noqa: E402

from generator.build import build  # noqa: E402
from generator.bundle.sign import generate_keypair  # noqa: E402
from generator.decide import Bundle  # noqa: E402

COLD = """
import sys, time
start = time.perf_counter()
from generator.decide import Bundle
Bundle.load(sys.argv[1], public_key=sys.argv[2])
print(time.perf_counter() - start)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--rego-decisions", type=int, default=20_000)
    args = ap.parse_args()
    import regorus

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
        print(f"load: {min(colds) * 1000:.0f} ms cold (new interpreter, imports included), "
              f"{min(warm) * 1000:.0f} ms warm (bar: < 200 ms) {'PASS' if min(colds) < 0.2 else 'FAIL'}")

        requests = list(random_requests(bundle.data, args.decisions, seed=1))
        decide = bundle.decide
        start = time.perf_counter()
        for request in requests:
            decide(request)
        python_rate = len(requests) / (time.perf_counter() - start)
        print(f"python: {len(requests):,} decisions, {python_rate:,.0f} per second "
              f"(bar: >= 300,000) {'PASS' if python_rate >= 300_000 else 'FAIL'}")

        engine = regorus.Engine()
        engine.add_policy("policy.rego", bundle.files["usage_policy/policy.rego"].decode())
        engine.add_data_json(json.dumps({"usage_policy": bundle.data}))
        sample = requests[: args.rego_decisions]
        encoded = [json.dumps(r) for r in sample]
        results = []
        start = time.perf_counter()
        for text in encoded:
            engine.set_input_json(text)
            results.append(engine.eval_rule("data.usage_policy.decision"))
        rego_rate = len(sample) / (time.perf_counter() - start)
        same = sum(1 for request, result in zip(sample, results) if decide(request).to_dict() == result)
        ratio = python_rate / rego_rate
        print(f"rego (regorus {metadata.version('gordon-to-regorus')}): {len(sample):,} decisions, "
              f"{rego_rate:,.0f} per second; identical decisions: {same:,}/{len(sample):,}")
        print(f"python / rego: {ratio:.0f}x (bar: >= 20x) {'PASS' if ratio >= 20 else 'FAIL'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
