"""Benchmark bundle delivery and the decision log.

    python benchmarks/bench_delivery.py [--interval 1.0] [--trials 10] [--decisions 300000] [--logged 1000000]

1. Propagation: a real HTTP server on 127.0.0.1 serves the bundle with ETags; a BundleClient
   polls it every --interval seconds (min_delay = max_delay). At a random moment a new bundle
   appears on the server; we measure how long until decisions use it.
   Bar: within one polling interval plus 100 ms.
2. Decisions per second on the 10,000-rule bundle, with the decision log off and on (JSON lines
   file, one field masked; and the HTTP sink to a collector process on 127.0.0.1), in
   alternating rounds, best of each. Bar: with either log, at least half the throughput without it.
3. `policy report` over --logged decisions written by the decision log. Bar: under 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402
from tool import policy_command  # noqa: E402
from decision_requests import random_requests  # noqa: E402

from generator.build import build  # noqa: E402
from generator.runtime import BundleClient  # noqa: E402
from generator.runtime import Bundle  # noqa: E402
from generator.runtime import DecisionLog, HttpSink, JsonLinesSink  # noqa: E402

COLLECTOR = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204); self.end_headers()
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


class Server:
    def __init__(self, body: bytes):
        self.body = body
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                body = outer.body
                etag = '"' + hashlib.sha256(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bundle.tar.gz"


def two_bundles(work: Path) -> tuple[bytes, bytes]:
    """Bundles of two successive commits of the example policy."""
    repo = work / "repo"
    shutil.copytree(Path(__file__).resolve().parent.parent / "policy", repo / "policy")
    shutil.copytree(Path(__file__).resolve().parent.parent / "exceptions", repo / "exceptions")
    env = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "b@example.com", "PATH": "/usr/bin:/bin"}
    out = []
    for n in range(2):
        if n:
            doc = repo / "policy" / "usage-policy.yaml"
            doc.write_text(doc.read_text().replace("Designing, producing", "Designing, building, producing"))
        subprocess.run(["git", "init", "-q"] if n == 0 else ["true"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", f"v{n}", "--date", f"2025-01-0{n + 1}T00:00:00Z"], cwd=repo,
                       check=True, env={**env, "GIT_COMMITTER_DATE": f"2025-01-0{n + 1}T00:00:00Z"})
        build(repo, work / f"site{n}")
        out.append((work / f"site{n}" / "bundle" / "bundle.tar.gz").read_bytes())
    return out[0], out[1]


def propagation(work: Path, interval: float, trials: int) -> list[float]:
    old, new = two_bundles(work)
    new_revision = Bundle.from_bytes(new).revision
    delays = []
    for _ in range(trials):
        server = Server(old)
        client = BundleClient(server.url, min_delay=interval, max_delay=interval, insecure_allow_unsigned=True).start()
        while client.bundle is None:
            time.sleep(0.001)
        time.sleep(random.uniform(0, interval))
        server.body = new
        appeared = time.perf_counter()
        while client.bundle.revision != new_revision:
            time.sleep(0.001)
        delays.append(time.perf_counter() - appeared)
        client.stop()
        server.httpd.shutdown()
        server.httpd.server_close()
    return delays


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--decisions", type=int, default=300_000)
    ap.add_argument("--logged", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="policy-bench-delivery-"))
    try:
        delays = propagation(work, args.interval, args.trials)
        worst = max(delays)
        print(f"propagation: polling every {args.interval:.1f} s, {args.trials} trials: new bundle in use after "
              f"{min(delays) * 1000:.0f} to {worst * 1000:.0f} ms (bar: <= {args.interval * 1000 + 100:.0f} ms) "
              f"{'PASS' if worst <= args.interval + 0.1 else 'FAIL'}")

        generate(work / "corpus")
        build(work / "corpus", work / "big")
        bundle = Bundle.load(work / "big" / "bundle")
        requests = list(random_requests(bundle.data, args.decisions, seed=3))
        decide = bundle.decide
        # a buffer that holds a whole round, so that no event is dropped: dropping would make
        # the logged rounds cheaper, not slower
        log = DecisionLog(JsonLinesSink(work / "logs" / "decisions.jsonl", max_bytes=2 ** 40),
                          mask=["/input/customer/attestations"], buffer_size=2 * len(requests))
        record = log.record

        def without_log() -> float:
            start = time.perf_counter()
            for request in requests:
                decide(request)
            return len(requests) / (time.perf_counter() - start)

        def with_log() -> float:
            start = time.perf_counter()
            for request in requests:
                record(request, decide(request))
            rate = len(requests) / (time.perf_counter() - start)
            log.flush(600)  # the writer's backlog is not left to disturb the next round
            return rate

        # a collector in a process of its own on 127.0.0.1, taking OPA-style batches at /logs
        collector = subprocess.Popen([sys.executable, "-c", COLLECTOR], stdout=subprocess.PIPE, text=True)
        port = int(collector.stdout.readline())
        http_log = DecisionLog(HttpSink(f"http://127.0.0.1:{port}"), mask=["/input/customer/attestations"],
                               buffer_size=2 * len(requests))
        http_record = http_log.record

        def with_http() -> float:
            start = time.perf_counter()
            for request in requests:
                http_record(request, decide(request))
            rate = len(requests) / (time.perf_counter() - start)
            http_log.flush(600)
            hang_guard = time.monotonic() + 600
            while http_log.status()["sink"].get("pending", 1) and time.monotonic() < hang_guard:
                time.sleep(0.05)  # uploaded: the next round starts clean
            return rate

        offs, ons, https = [], [], []
        for _ in range(args.rounds):  # alternate, best of each: this machine's speed drifts
            offs.append(without_log())
            ons.append(with_log())
            https.append(with_http())
        off, on, via_http = max(offs), max(ons), max(https)
        print(f"decisions per second (best of {args.rounds} alternating rounds of {len(requests):,}): "
              f"{off:,.0f} without the log, {on:,.0f} with it ({on / off:.2f} of it; bar: >= 0.5) "
              f"{'PASS' if on / off >= 0.5 else 'FAIL'}; written {log.status()['written']:,}, "
              f"dropped {log.status()['dropped']:,}")
        sink = http_log.status()["sink"]
        print(f"with the HTTP sink (collector on 127.0.0.1): {via_http:,.0f} per second ({via_http / off:.2f} of it; "
              f"bar: >= 0.5) {'PASS' if via_http / off >= 0.5 else 'FAIL'}; uploaded {sink.get('uploaded', 0):,}, "
              f"dropped {sink.get('dropped', 0):,}")
        http_log.close()
        collector.terminate()
        written = log.status()["written"]
        while written < args.logged:
            batch = requests[: min(len(requests), args.logged - written)]
            for request in batch:
                record(request, decide(request))
            log.flush(600)
            written = log.status()["written"]
        log.close()
        logfile = work / "logs" / "decisions.jsonl"
        policy = policy_command()
        start = time.perf_counter()
        subprocess.run([policy, "report", str(logfile), "--format", "json"], check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        print(f"policy report: {written:,} decisions ({logfile.stat().st_size / 1e6:,.0f} MB) in {elapsed:.1f} s "
              f"(bar: < 10 s) {'PASS' if elapsed < 10 else 'FAIL'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
