"""The decision log (OPA's event shape, masking, rotation, crashes) and `policy report`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from conftest import REPO
from generator.build import build
from generator.runtime import Bundle
from generator.runtime import DecisionLog, JsonLinesSink
from generator.report import summarize

AGENCY = {"type": "government", "exceptions": ["government-foreign-intelligence"],
          "attestations": ["legal-authority", "vetted-agency"]}
REQUESTS = [
    {"use": "surveillance.intelligence-analysis", "customer": AGENCY, "model": "claude-3-haiku", "at": "2025-01-15"},
    {"use": "surveillance.intelligence-analysis", "customer": AGENCY, "model": "claude-opus-4", "at": "2025-01-15"},
    {"use": "surveillance.intelligence-analysis", "customer": dict(AGENCY, type="commercial"), "at": "2025-01-15"},
    {"use": "disinformation.campaigns", "customer": AGENCY, "model": "claude-3-haiku", "at": "2025-01-15"},
    {"use": "high-risk.legal", "customer": {"type": "commercial"}, "at": "2025-01-15"},
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    build(REPO, out)
    return Bundle.load(out / "bundle")


def test_events_have_opa_shape_and_masked_fields_never_reach_the_file(bundle, tmp_path):
    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(JsonLinesSink(path), mask=["/input/customer/attestations", "/input/model"],
                      labels={"service": "tests"})
    for request in REQUESTS:
        log.record(request, bundle.decide(request))
    log.close()
    text = path.read_text()
    assert "legal-authority" not in text and "vetted-agency" not in text and "claude-3-haiku" not in text
    events = [json.loads(line) for line in text.splitlines()]
    assert len(events) == len(REQUESTS)
    first = events[0]
    assert set(first) == {"decision_id", "timestamp", "path", "bundles", "input", "result", "erased", "labels"}
    uuid.UUID(first["decision_id"])
    assert first["timestamp"].endswith("Z") and first["path"] == "usage_policy/decision"
    assert first["bundles"] == {"usage_policy": {"revision": bundle.revision}}
    assert first["erased"] == ["/input/customer/attestations", "/input/model"]
    assert first["input"]["customer"] == {"type": "government", "exceptions": ["government-foreign-intelligence"]}
    assert first["result"]["allowed"] is True and first["result"]["exception"] == "government-foreign-intelligence"
    assert REQUESTS[0]["customer"]["attestations"]  # the caller's request is untouched
    assert len({e["decision_id"] for e in events}) == len(events)


def test_a_callable_sink_receives_events(bundle):
    received: list = []
    log = DecisionLog(received.extend, mask=["/input/customer"])
    log.record(REQUESTS[4], bundle.decide(REQUESTS[4]))
    log.close()
    assert received[0]["result"]["reasons"] == [{"code": "requirement"}]
    assert received[0]["erased"] == ["/input/customer"] and "customer" not in received[0]["input"]


def test_a_full_buffer_drops_and_counts_instead_of_blocking(bundle):
    release = threading.Event()
    log = DecisionLog(lambda events: release.wait(5), buffer_size=10, flush_interval=0.01)
    decision = bundle.decide(REQUESTS[0])
    for _ in range(200):
        log.record(REQUESTS[0], decision)
    assert log.status()["dropped"] >= 150
    release.set()
    log.close()


def test_a_failing_sink_is_counted_not_fatal(bundle):
    def broken(events):
        raise OSError("disk full")

    log = DecisionLog(broken)
    log.record(REQUESTS[0], bundle.decide(REQUESTS[0]))
    log.flush()
    log.close()
    assert log.status()["sink_errors"] == 1 and "disk full" in log.status()["last_error"]


def test_rotation_keeps_whole_lines(bundle, tmp_path):
    path = tmp_path / "d.jsonl"
    log = DecisionLog(JsonLinesSink(path, max_bytes=20_000, backups=3), batch_size=10)
    decision = bundle.decide(REQUESTS[0])
    for _ in range(300):
        log.record(REQUESTS[0], decision)
    log.close()
    files = sorted(tmp_path.glob("d.jsonl*"))
    assert [f.name for f in files] == ["d.jsonl", "d.jsonl.1", "d.jsonl.2", "d.jsonl.3"]
    for f in files:
        assert f.stat().st_size <= 20_000 + 2_000
        for line in f.read_text().splitlines():
            json.loads(line)


CRASH = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {repo!r})
    from generator.runtime import Bundle
    from generator.runtime import DecisionLog, JsonLinesSink
    bundle = Bundle.load({bundle!r})
    log = DecisionLog(JsonLinesSink({path!r}), flush_interval=60)
    request = {{"use": "high-risk.legal", "at": "2025-01-15"}}
    decision = bundle.decide(request)
    for _ in range(500):
        log.record(request, decision)
    assert log.flush(30)               # 500 events written
    for _ in range(300):
        log.record(request, decision)  # 300 more only buffered, then the service dies
    os._exit(1)
""")


def test_a_service_crash_loses_at_most_the_buffered_events(bundle, tmp_path):
    path = tmp_path / "crash.jsonl"
    script = CRASH.format(repo=str(REPO), bundle=str(bundle_path(tmp_path, bundle)), path=str(path))
    assert subprocess.run([sys.executable, "-c", script]).returncode == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(path.read_bytes().splitlines()) < 500:
        time.sleep(0.05)  # the writer process finishes what it was handed, then sees the end of input
    lines = path.read_bytes().splitlines()
    assert len(lines) == 500 and path.read_bytes().endswith(b"\n")
    assert all(json.loads(line)["result"]["allowed"] for line in lines)


def test_a_line_torn_by_a_crash_is_skipped_then_cut_and_earlier_lines_stay(bundle, tmp_path):
    path = tmp_path / "torn.jsonl"
    log = DecisionLog(JsonLinesSink(path))
    for request in REQUESTS:
        log.record(request, bundle.decide(request))
    log.close()
    with open(path, "ab") as fh:  # what a writer killed in the middle of a write leaves behind
        fh.write(b'{"decision_id": "cut-in-the-midd')
    before = summarize([path])
    assert before["decisions"] == len(REQUESTS) and before["skipped_lines"] == 1
    log = DecisionLog(JsonLinesSink(path))  # the next writer repairs the file before appending
    log.record(REQUESTS[0], bundle.decide(REQUESTS[0]))
    log.close()
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(REQUESTS) + 1 and all(json.loads(line) for line in lines)


def bundle_path(tmp_path, bundle):
    target = tmp_path / "bundle.tar.gz"
    from generator.bundle.archive import write_archive

    target.write_bytes(write_archive(bundle.files))
    return target


def test_report_per_exception_and_rule(bundle, tmp_path, cli):
    path = tmp_path / "d.jsonl"
    log = DecisionLog(JsonLinesSink(path))
    for request in REQUESTS * 3:
        log.record(request, bundle.decide(request))
    log.close()
    report = summarize([path])
    assert report["decisions"] == 15 and report["skipped_lines"] == 0
    exc = report["exceptions"]["government-foreign-intelligence"]
    assert (exc["allowed"], exc["denied"]) == (3, 9)
    assert exc["denied_by_reason"] == {"customer-type": 3, "exception-not-permitting": 3, "model-above-asl-cap": 3}
    assert exc["by_customer_type"] == {"commercial": {"allowed": 0, "denied": 3},
                                       "government": {"allowed": 3, "denied": 6}}
    rule = report["rules"]["surveillance.intelligence-analysis"]
    assert (rule["allowed"], rule["denied"]) == (3, 6)
    markdown = cli(["report", str(path)])
    assert markdown.exit_code == 0
    assert "| `government-foreign-intelligence` | 3 | 9 | commercial 0/3, government 3/6 |" in markdown.output
    as_json = json.loads(cli(["report", str(path), "--format", "json"]).output)
    assert as_json["rules"]["high-risk.legal"]["by_reason"] == {"requirement": 3}
    later = json.loads(cli(["report", str(path), "--format", "json", "--since", "2999-01-01"]).output)
    assert later["decisions"] == 0
    assert cli(["report", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_decision_ids_stay_unique_when_the_writer_process_is_killed(bundle, tmp_path):
    """Issue 13: a restarted writer drew the same id prefix and a fresh counter, so ids repeated."""
    import os
    import signal

    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(JsonLinesSink(path), flush_interval=0.01, batch_size=10)
    for _ in range(50):
        log.record(REQUESTS[0], bundle.decide(REQUESTS[0]))
    assert log.flush()
    os.kill(log.status()["writer_pid"], signal.SIGKILL)
    for _ in range(50):
        log.record(REQUESTS[1], bundle.decide(REQUESTS[1]))
    log.flush()
    log.close()
    ids = [json.loads(line)["decision_id"] for line in path.read_text().splitlines()]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("content", [b"just some text\nmore text\n", bytes(range(256)) * 20,
                                     b'{"schema_version": 1, "rules": {}}\n', b"\x1f\x8b\x08\x00gzip-ish"],
                         ids=["text", "random-bytes", "data-json", "tarball-ish"])
@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_report_refuses_an_input_with_no_event(tmp_path, cli, content, engine):
    path = tmp_path / "not-a-log.jsonl"
    path.write_bytes(content)
    result = cli(["report", str(path), "--engine", engine])
    assert result.exit_code == 1 and "no decision event" in result.output and str(path) in result.output


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_report_refuses_a_rotated_log_cut_short(tmp_path, cli, engine):
    """A gzip-compressed log whose end is missing (a copy that stopped): refused, naming the file,
    rather than reported without the decisions that were lost."""
    import gzip

    event = {"timestamp": "2025-01-15T10:00:00.000000Z", "result": {"allowed": True, "rule": "weapons.design"}}
    whole = gzip.compress(("\n".join(json.dumps(event) for _ in range(2000)) + "\n").encode())
    good, cut = tmp_path / "decisions.jsonl.1.gz", tmp_path / "decisions.jsonl.2.gz"
    good.write_bytes(whole)
    cut.write_bytes(whole[: len(whole) // 2])
    assert cli(["report", str(good), "--engine", engine]).exit_code == 0
    result = cli(["report", str(good), str(cut), "--engine", engine])
    assert result.exit_code == 1 and f"{cut}: no decision event in it" in result.output
    assert "does not decompress" in result.output and "Traceback" not in result.output


def test_report_counts_malformed_events_by_reason_without_a_traceback(tmp_path, cli):
    good = {"timestamp": "2025-01-15T10:00:00.000000Z", "result": {"allowed": False, "rule": "weapons.design",
                                                                  "reasons": [{"code": "no-exception"}]}}
    lines = [json.dumps(good),
             json.dumps({"timestamp": 5, "result": {"allowed": True}}),
             json.dumps({**good, "result": {"allowed": False, "reasons": ["no-exception", 7]}}),
             json.dumps({"timestamp": "2025-01-15T10:00:00Z", "result": {"allowed": "yes"}}),
             "[1, 2]", '{"decision_id": "cut-in-the-midd']
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    result = cli(["report", str(tmp_path / "log.jsonl"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["decisions"] == 2 and report["skipped_lines"] == 4
    assert report["skipped_by_reason"] == {"no timestamp as text": 1, "not JSON": 1, "not a JSON object": 1,
                                           "result.allowed is not true or false": 1}


def test_a_full_buffer_drops_the_oldest_events_as_opa_does(bundle):
    """Issue 13: the newest events were dropped; OPA drops the oldest."""
    release = threading.Event()
    received: list = []

    def slow(events):
        release.wait(5)
        received.extend(events)

    log = DecisionLog(slow, buffer_size=10, flush_interval=3600, batch_size=1000)
    decision = bundle.decide(REQUESTS[0])
    for n in range(100):
        log.record({"use": "weapons.design", "n": n}, decision)
    assert log.status()["dropped"] == 90
    release.set()
    log.close()
    assert [e["input"]["n"] for e in received] == list(range(90, 100))  # the newest ten were kept


def test_events_carry_opas_automatic_labels_and_the_callers(bundle):
    received: list = []
    log = DecisionLog(received.extend, labels={"service": "billing"})
    log.record(REQUESTS[4], bundle.decide(REQUESTS[4]))
    log.close()
    labels = received[0]["labels"]
    uuid.UUID(labels["id"])
    assert labels["version"].startswith("policy ") and labels["service"] == "billing"


def test_a_torn_line_is_cut_when_the_log_is_opened(bundle, tmp_path):
    path = tmp_path / "torn.jsonl"
    path.write_bytes(b'{"decision_id": "whole"}\n{"decision_id": "cut-in-the-midd')
    JsonLinesSink(path)  # opening is enough
    assert path.read_bytes() == b'{"decision_id": "whole"}\n'


@pytest.mark.parametrize("sink_kind", ["file", "callable"])
def test_masks_reach_the_result_too(bundle, tmp_path, sink_kind):
    """Issue 13: masks reached /input/ only; OPA can mask the result as well."""
    masks = ["/result/purposes", "/input/customer/attestations"]
    received: list = []
    path = tmp_path / "d.jsonl"
    log = DecisionLog(JsonLinesSink(path) if sink_kind == "file" else received.extend, mask=masks)
    log.record(REQUESTS[0], bundle.decide(REQUESTS[0]))
    log.close()
    event = json.loads(path.read_text()) if sink_kind == "file" else received[0]
    assert "purposes" not in event["result"] and event["result"]["allowed"] is True
    assert event["erased"] == masks and event["bundles"]["usage_policy"]["revision"] == bundle.revision
    assert "human trafficking" not in json.dumps(event)
    with pytest.raises(ValueError, match="/input/ or /result/"):
        DecisionLog(received.extend, mask=["/labels/x"])
