"""BundleClient against a real HTTP server on 127.0.0.1 that misbehaves on request: the client
keeps its last good bundle through every fault and switches when a good new one appears."""

from __future__ import annotations

import hashlib
import http.server
import socket
import sys
import threading
import time

import pytest

from conftest import Repo
from generator.build import build
from generator.bundle.sign import generate_keypair
from generator.runtime import BundleClient
from generator.runtime import Bundle

REQUEST = {"use": "surveillance.intelligence-analysis", "at": "2025-01-15", "model": "small",
           "customer": {"type": "government", "exceptions": ["gov"], "attestations": ["legal-authority"]}}


class Server:
    """Serves ``body`` at /bundle.tar.gz with an ETag, or a fault chosen by ``mode``."""

    def __init__(self):
        self.body, self.mode, self.not_modified, self.requests = b"", "ok", 0, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                outer.requests += 1
                body, etag = outer.body, '"' + hashlib.sha256(outer.body).hexdigest() + '"'
                mode = outer.mode
                if mode == "500":
                    self.send_error(500)
                    return
                if mode == "hang":
                    time.sleep(1.5)
                    return
                if self.headers.get("If-None-Match") == etag and mode == "ok":
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                if mode == "drip":  # a byte every 0.2 s: each read is quick, the whole never ends in time
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for byte in body[:40]:
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                if mode == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bundle.tar.gz"

    def serve(self, body: bytes, mode: str = "ok") -> None:
        self.body, self.mode = body, mode

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Three signed bundles of successive commits (a < b < c), and one signed with another key."""
    base = tmp_path_factory.mktemp("client")
    generate_keypair(base / "key")
    generate_keypair(base / "other")
    repo = Repo(base / "repo")
    out = {}
    for name, (old, new) in {"a": (None, None), "b": ("Designing weapons.", "Designing or building weapons."),
                             "c": ("Legal advice needs review.", "Legal advice needs a lawyer's review.")}.items():
        if old:
            repo.edit("policy/main.yaml", old, new)
        repo.commit(f"Version {name}")
        build(repo.root, base / name, sign_key=base / "key" / "private.pem")
        out[name] = (base / name / "bundle" / "bundle.tar.gz").read_bytes()
    build(repo.root, base / "other-site", sign_key=base / "other" / "private.pem")
    out["other"] = (base / "other-site" / "bundle" / "bundle.tar.gz").read_bytes()
    out["public"] = base / "key" / "public.pem"
    out["revisions"] = {name: Bundle.from_bytes(out[name]).revision for name in "abc"}
    repo.git.close()
    return out


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def client_for(server, bundles, **kw) -> BundleClient:
    kw.setdefault("timeout", 0.5)
    return BundleClient(server.url, public_key=bundles["public"], min_delay=0, max_delay=0, **kw)


def test_polls_uses_etags_and_switches(server, bundles):
    rev = bundles["revisions"]
    client = client_for(server, bundles)
    assert client.decide(REQUEST).reasons[0]["code"] == "no-bundle"  # nothing yet: fail closed
    server.serve(bundles["a"])
    assert client.poll() is True and client.decide(REQUEST).revision == rev["a"]
    assert client.poll() is False and server.not_modified == 1  # 304 Not Modified
    server.serve(bundles["b"])
    assert client.poll() is True and client.decide(REQUEST).revision == rev["b"]
    status = client.status()
    assert status["ready"] and status["active_revision"] == rev["b"] and status["source"] == "server"
    assert status["last_error"] is None and status["consecutive_failures"] == 0 and status["age_seconds"] >= 0


@pytest.mark.parametrize("fault, words", [
    ("500", "HTTP 500"),
    ("hang", "did not answer in time"),
    ("truncate", "truncated"),
    ("tamper", "bundle refused"),
    ("other-key", "does not verify"),
    ("rollback", "refusing a rollback"),
    ("garbage", "not a readable .tar.gz"),
    ("oversize", "over the limit"),
    ("down", "cannot reach"),
])
def test_every_fault_keeps_the_last_good_bundle(server, bundles, fault, words):
    rev = bundles["revisions"]
    client = client_for(server, bundles, max_bytes=len(bundles["b"]) * 4)
    server.serve(bundles["b"])
    assert client.poll()
    if fault == "tamper":
        body = bytearray(bundles["c"])
        body[len(body) // 2] ^= 0x40
        server.serve(bytes(body))
    elif fault == "other-key":
        server.serve(bundles["other"])
    elif fault == "rollback":
        server.serve(bundles["a"])
    elif fault == "garbage":
        server.serve(b"<html>maintenance</html>")
    elif fault == "oversize":
        server.serve(bundles["c"] + b"\0" * (len(bundles["b"]) * 4))
    elif fault == "down":
        server.close()
        server.httpd = server.httpd  # closed; connections are refused from now on
    else:
        server.serve(bundles["c"], mode=fault)
    started = time.monotonic()
    assert client.poll() is False
    assert time.monotonic() - started < 5  # bounded, even when the server hangs
    assert client.decide(REQUEST).revision == rev["b"]  # still answering from the last good bundle
    status = client.status()
    assert words in status["last_error"]["message"], status
    assert status["consecutive_failures"] == 1 and status["active_revision"] == rev["b"]
    if fault != "down":
        server.serve(bundles["c"])
        assert client.poll() is True and client.decide(REQUEST).revision == rev["c"]
        assert client.status()["consecutive_failures"] == 0


def test_restart_starts_from_the_cached_bundle(server, bundles, tmp_path):
    rev = bundles["revisions"]
    first = client_for(server, bundles, cache_dir=tmp_path / "cache")
    server.serve(bundles["b"])
    assert first.poll()
    server.close()
    second = client_for(server, bundles, cache_dir=tmp_path / "cache")
    assert second.status()["source"] == "cache" and second.decide(REQUEST).revision == rev["b"]
    assert second.poll() is False and "cannot reach" in second.status()["last_error"]["message"]
    assert second.decide(REQUEST).allowed
    (tmp_path / "cache" / "bundle.tar.gz").write_bytes(bundles["other"])  # a cache tampered with
    third = client_for(server, bundles, cache_dir=tmp_path / "cache")
    assert third.bundle is None and "cached bundle was refused" in third.status()["last_error"]["message"]


def test_background_polling_picks_up_a_new_bundle(server, bundles):
    rev = bundles["revisions"]
    server.serve(bundles["a"])
    client = BundleClient(server.url, public_key=bundles["public"], min_delay=0.1, max_delay=0.2).start()
    try:
        deadline = time.monotonic() + 5
        while client.bundle is None and time.monotonic() < deadline:
            time.sleep(0.01)
        server.serve(bundles["b"])
        while client.decide(REQUEST).revision != rev["b"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.decide(REQUEST).revision == rev["b"]
    finally:
        client.stop()


def test_decisions_in_eight_threads_while_the_bundle_is_swapped_100_times(server, bundles):
    rev = bundles["revisions"]
    # eight threads deciding flat out hold the GIL; switch often so the poller and server get turns
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        _swap_while_deciding(server, bundles, rev)
    finally:
        sys.setswitchinterval(old_interval)


def _swap_while_deciding(server, bundles, rev):
    client = client_for(server, bundles, allow_rollback=True, timeout=10)
    server.serve(bundles["a"])
    client.poll()
    seen: set[str] = set()
    errors: list = []
    stop = threading.Event()

    def decide_forever():
        try:
            while not stop.is_set():
                decision = client.decide(REQUEST)
                seen.add(decision.revision)
                assert decision.version and decision.reasons
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=decide_forever) for _ in range(8)]
    for t in threads:
        t.start()
    swaps = 0
    for i in range(100):
        server.serve(bundles["b" if i % 2 == 0 else "a"])
        swaps += client.poll()
    stop.set()
    for t in threads:
        t.join()
    assert errors == [] and swaps == 100, client.status()
    assert seen == {rev["a"], rev["b"]}


def test_a_public_key_is_required_unless_unsigned_is_asked_for_by_name(server, bundles):
    with pytest.raises(ValueError, match="needs public_key"):
        BundleClient(server.url)
    server.serve(bundles["a"])
    client = BundleClient(server.url, min_delay=0, max_delay=0, insecure_allow_unsigned=True)
    assert client.poll() and client.status()["active_revision"] == bundles["revisions"]["a"]


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _recorder(host: str, body: bytes, redirect_to: str = ""):
    httpd = http.server.ThreadingHTTPServer((host, 0), _Recorder)
    httpd.body, httpd.redirect_to = body, redirect_to
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


@pytest.mark.parametrize("same_host", [False, True], ids=["other-host", "same-host"])
def test_credentials_never_follow_a_redirect_to_another_host(bundles, same_host):
    """Issue 13: a bearer token reached the host a redirect pointed to."""
    _Recorder.seen = []
    target = _recorder("127.0.0.1", bundles["a"])
    port = target.server_address[1]
    # 127.0.0.1 and localhost are different hosts to a client, though the same machine
    destination = f"http://{'127.0.0.1' if same_host else 'localhost'}:{port}/bundle.tar.gz"
    hop = _recorder("127.0.0.1", b"", redirect_to=destination)
    try:
        client = BundleClient(f"http://127.0.0.1:{hop.server_address[1]}/hop", public_key=bundles["public"],
                              min_delay=0, max_delay=0, headers={"Authorization": "Bearer s3cret",
                                                                 "Cookie": "session=1", "X-Trace": "kept"})
        assert client.poll(), client.status()
        first, second = _Recorder.seen
        assert first["authorization"] == "Bearer s3cret"
        assert second["x-trace"] == "kept"
        if same_host:
            assert second["authorization"] == "Bearer s3cret"
        else:
            assert "authorization" not in second and "cookie" not in second
    finally:
        for httpd in (target, hop):
            httpd.shutdown()
            httpd.server_close()


def test_the_timeout_bounds_the_whole_poll_not_each_read(server, bundles):
    """Issue 13: a server dripping a byte every 0.3 s held a 1 s-timeout poll for 8 s."""
    server.serve(bundles["a"], "drip")
    client = BundleClient(server.url, public_key=bundles["public"], min_delay=0, max_delay=0, timeout=1.0)
    start = time.monotonic()
    assert client.poll() is False
    took = time.monotonic() - start
    status = client.status()
    assert status["consecutive_failures"] == 1 and "did not finish within the timeout" in status["last_error"]["message"]
    assert took < 4.0  # not a speed bar: without the deadline the poll lasts the whole drip (8 s)


def test_rollback_protection_cannot_be_fooled_by_equal_times_or_missing_fields(tmp_path, server):
    """Issue 13: two commits in one second, or a bundle built outside git, passed as newer."""
    import datetime as dt
    import shutil

    generate_keypair(tmp_path / "key")
    key = tmp_path / "key" / "private.pem"
    repo = Repo(tmp_path / "repo")
    repo.commit("First")
    repo.when -= dt.timedelta(days=1)  # the next commit in the very same second
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
    repo.commit("Second, same second")
    built = {}
    for name, rev in (("first", "HEAD~1"), ("second", "HEAD")):
        build(repo.root, tmp_path / name, sign_key=key, rev=rev)
        built[name] = (tmp_path / name / "bundle" / "bundle.tar.gz").read_bytes()
    plain = tmp_path / "plain"
    shutil.copytree(repo.root / "policy", plain / "policy")
    shutil.copytree(repo.root / "exceptions", plain / "exceptions")
    build(plain, tmp_path / "outside", sign_key=key)
    built["outside git"] = (tmp_path / "outside" / "bundle" / "bundle.tar.gz").read_bytes()
    repo.git.close()
    first, second = Bundle.from_bytes(built["first"]), Bundle.from_bytes(built["second"])
    assert first.commit_time == second.commit_time and (first.sequence, second.sequence) == (1, 2)
    assert Bundle.from_bytes(built["outside git"]).sequence is None

    client = BundleClient(server.url, public_key=tmp_path / "key" / "public.pem", min_delay=0, max_delay=0)
    server.serve(built["second"])
    assert client.poll()
    for older in ("first", "outside git"):
        server.serve(built[older])
        assert client.poll() is False
        assert client.status()["active_revision"] == second.revision
        assert "refusing" in client.status()["last_error"]["message"]
    # a client whose bundle has no sequence takes the first one that has (nothing to order by)
    fresh = BundleClient(server.url, public_key=tmp_path / "key" / "public.pem", min_delay=0, max_delay=0)
    server.serve(built["outside git"])
    assert fresh.poll()
    server.serve(built["first"])
    assert fresh.poll() and fresh.status()["active_revision"] == first.revision


def test_the_bundles_age_survives_a_restart(server, bundles, tmp_path):
    """Issue 13: age_seconds restarted at 0 when a service restarted from its cache."""
    import json as json_module

    first = client_for(server, bundles, cache_dir=tmp_path / "cache")
    server.serve(bundles["a"])
    assert first.poll()
    meta = tmp_path / "cache" / "bundle.json"
    fetched = json_module.loads(meta.read_text())["fetched"]
    meta.write_text(json_module.dumps(dict(json_module.loads(meta.read_text()), fetched=fetched - 3600)))
    restarted = client_for(server, bundles, cache_dir=tmp_path / "cache")
    status = restarted.status()
    assert status["source"] == "cache" and 3600 <= status["age_seconds"] < 3600 + 600
    assert status["sequence"] == restarted.bundle.sequence
