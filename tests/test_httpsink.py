"""Decision logs to a collector on 127.0.0.1, as OPA's decision-log plugin sends them: gzip JSON
arrays POSTed to /logs. The collector goes down, answers 500, is slow, and comes back: no event
within the buffer is lost, none is sent twice, and a full buffer drops (and counts) the oldest."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time

import pytest

from conftest import REPO
from generator.build import build
from generator.runtime import Bundle, DecisionLog
from generator.runtime.httpsink import HttpSink


class Collector:
    """A decision-log collector: records every event it accepts; ``mode`` chooses a fault."""

    def __init__(self, port: int = 0):
        self.events: list[dict] = []
        self.requests: list[dict] = []
        self.mode = "ok"
        self.failures_left = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"path": self.path, "headers": dict(self.headers)})
                if outer.mode == "500" and outer.failures_left > 0:
                    outer.failures_left -= 1
                    self.send_error(500)
                    return
                if outer.mode == "slow":
                    time.sleep(0.4)
                outer.events += json.loads(gzip.decompress(body))
                self.send_response(204)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    build(REPO, out)
    return Bundle.load(out / "bundle")


def _wait(condition, what: str, limit: float = 60.0):
    hang_guard = time.monotonic() + limit  # not a speed bar: only so that a hang fails the test
    while not condition():
        assert time.monotonic() < hang_guard, what
        time.sleep(0.02)


def _record(log, bundle, start: int, count: int):
    decision = bundle.decide({"use": "weapons.design", "at": "2025-01-01"})
    for n in range(start, start + count):
        log.record({"use": "weapons.design", "at": "2025-01-01", "n": n}, decision)


def _sink(port: int, **kw) -> HttpSink:
    return HttpSink(f"http://127.0.0.1:{port}", headers={"Authorization": "Bearer t0ken"}, timeout=2.0,
                    min_delay=0.05, max_delay=0.2, **kw)


def test_batches_arrive_as_opa_sends_them(bundle):
    collector = Collector()
    log = DecisionLog(_sink(collector.port), flush_interval=0.05, batch_size=50)
    try:
        _record(log, bundle, 0, 300)
        _wait(lambda: len(collector.events) == 300, "all events uploaded")
    finally:
        log.close()
        collector.close()
    request = collector.requests[0]
    assert request["path"] == "/logs" and request["headers"]["Content-Encoding"] == "gzip"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert sorted(e["input"]["n"] for e in collector.events) == list(range(300))
    assert len({e["decision_id"] for e in collector.events}) == 300
    event = collector.events[0]
    assert set(event) >= {"decision_id", "timestamp", "path", "bundles", "input", "result", "labels"}


@pytest.mark.parametrize("fault", ["down", "500", "slow"])
def test_an_outage_loses_nothing_within_the_buffer_and_sends_nothing_twice(bundle, fault):
    probe = Collector()
    port = probe.port
    if fault == "down":
        probe.close()  # nothing listens on the port for a while
        collector = None
    else:
        collector = probe
        collector.mode = fault
        collector.failures_left = 5
    log = DecisionLog(_sink(port), flush_interval=0.05, batch_size=20)
    try:
        _record(log, bundle, 0, 100)
        assert log.flush(), log.status()  # handed to the writer process
        if fault == "down":
            _wait(lambda: log.status()["sink"].get("failures", 0) >= 2, "failed attempts while down")
            _record(log, bundle, 100, 50)
            collector = Collector(port)  # the collector comes back on its port
        _wait(lambda: len(collector.events) >= 100 + (50 if fault == "down" else 0), "uploaded after the outage")
        _wait(lambda: log.status()["sink"].get("pending") == 0, "buffer drained")
    finally:
        log.close()
        if collector is not None:
            collector.close()
    ns = sorted(e["input"]["n"] for e in collector.events)
    expected = list(range(150 if fault == "down" else 100))
    assert ns == expected  # none lost, none twice
    status = log.status()["sink"]
    assert status["dropped"] == 0 and (fault == "slow" or status["failures"] >= 1)


def test_a_full_buffer_during_an_outage_drops_the_oldest_and_counts(bundle):
    probe = Collector()
    port = probe.port
    probe.close()
    log = DecisionLog(_sink(port, buffer_size=40), flush_interval=0.05, batch_size=10)
    try:
        _record(log, bundle, 0, 100)
        assert log.flush()
        _wait(lambda: log.status()["sink"].get("dropped") == 60, "drops counted")
        collector = Collector(port)
        _wait(lambda: len(collector.events) == 40, "the newest forty uploaded")
    finally:
        log.close()
    collector.close()
    assert sorted(e["input"]["n"] for e in collector.events) == list(range(60, 100))


def test_bad_collector_urls_are_refused():
    with pytest.raises(ValueError, match="http:// or https://"):
        HttpSink("ftp://collector")
