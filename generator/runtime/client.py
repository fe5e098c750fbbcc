"""BundleClient: keep a service's bundle current by polling a URL the way OPA does, and never lose
the last good one.

    client = BundleClient("https://policies.example.com/bundle/bundle.tar.gz",
                          public_key="public.pem", cache_dir="/var/cache/usage-policy")
    client.start()                      # polls in a background thread
    client.decide(request)              # from any thread
    client.status()                     # for health checks

Each poll sends the last ETag in If-None-Match (304: nothing to do), downloads at most
``max_bytes``, verifies the signature and the data's schema, refuses a bundle older than the
active one (by the commit time in its manifest), and only then swaps it in with one reference
assignment: a decision sees the old bundle or the new one, never a mixture. Any failure keeps
the active bundle and is recorded. Delays between polls are random between ``min_delay`` and
``max_delay`` seconds (jitter, as OPA does), so many services do not poll in step."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ..bundle.errors import BundleError
from ..bundle.verify import load_public_key
from .decide import Bundle, Decision, Reason
from .decisionlog import DecisionLog

_NO_BUNDLE = (Reason(code="no-bundle"),)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# Headers that carry credentials: never sent to another host than the one they were given for.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects as urllib does, but drops credentials when the host name changes (as
    Go's HTTP client, and so OPA's, does) or the scheme goes from https to http: a bearer token
    for the bundle server must never reach wherever the server redirects to."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        (old_scheme, old_host), (new_scheme, new_host) = _origin_of(req.full_url), _origin_of(newurl)
        if new is not None and (new_host != old_host or (old_scheme == "https" and new_scheme != "https")):
            for name in list(new.headers):
                if name.lower() in CREDENTIAL_HEADERS:
                    del new.headers[name]
            for name in list(new.unredirected_hdrs):
                if name.lower() in CREDENTIAL_HEADERS:
                    del new.unredirected_hdrs[name]
        return new


def _read_before(response: Any, limit: int, deadline: float, timeout: float) -> bytes:
    """The body, read in pieces (each read returns what has arrived), up to ``limit`` bytes, and
    given up once ``deadline`` has passed: a server that drips a byte at a time cannot hold a
    poll longer than its timeout."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the download did not finish within the timeout of {timeout:g} s")
        chunk = response.read1(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _origin_of(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower()


_OPENER = urllib.request.build_opener(_SameHostRedirects)


class BundleClient:
    def __init__(self, url: str, public_key: str | Path | None = None, cache_dir: str | Path | None = None,
                 min_delay: float = 60.0, max_delay: float = 120.0, timeout: float = 10.0,
                 max_bytes: int = 64 * 1024 * 1024, allow_rollback: bool = False,
                 headers: dict[str, str] | None = None, decision_log: DecisionLog | None = None,
                 insecure_allow_unsigned: bool = False):
        """``public_key`` is required: every bundle must carry a signature that verifies with it.
        Only ``insecure_allow_unsigned=True`` (a name that says what it does) accepts bundles
        without a key, for local development."""
        if min_delay < 0 or max_delay < min_delay:
            raise ValueError("need 0 <= min_delay <= max_delay")
        if public_key is None and not insecure_allow_unsigned:
            raise ValueError("BundleClient needs public_key (the PEM file 'policy keygen' wrote) so that only "
                             "signed bundles are used; pass insecure_allow_unsigned=True to accept unsigned ones")
        self.url = url
        self.key = load_public_key(Path(public_key)) if public_key is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.min_delay, self.max_delay = min_delay, max_delay
        self.timeout, self.max_bytes = timeout, max_bytes
        self.allow_rollback = allow_rollback
        self.headers = dict(headers or {})
        self.decision_log = decision_log
        self._bundle: Bundle | None = None
        self._etag: str | None = None
        self._fetched = 0.0  # when the active bundle was downloaded (epoch seconds)
        self._lock = threading.Lock()  # one poll at a time; decisions never take it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: dict[str, Any] = {"source": None, "activated_at": None, "activated_monotonic": None,
                                       "last_success": None, "last_attempt": None, "last_error": None,
                                       "consecutive_failures": 0, "activations": 0}
        if self.cache_dir is not None:
            self._load_cache()

    # ---- deciding ------------------------------------------------------------------------------

    @property
    def bundle(self) -> Bundle | None:
        return self._bundle

    def decide(self, request: Any) -> Decision:
        """Decide with the active bundle; without one (nothing downloaded or cached yet), deny
        with reason 'no-bundle' (fail closed)."""
        bundle = self._bundle  # one read: the whole decision uses this bundle
        if bundle is None:
            use = request.get("use") if isinstance(request, dict) else None
            decision = Decision(False, use if isinstance(use, str) else None, None, None, None, (), (),
                                _NO_BUNDLE, "", None)
        else:
            decision = bundle.decide(request)
        log = self.decision_log
        if log is not None:
            log.record(request, decision)
        return decision

    # ---- polling -------------------------------------------------------------------------------

    def start(self) -> "BundleClient":
        """Poll now, then keep polling in a background (daemon) thread until ``stop()``."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="policy-bundle-client", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(random.uniform(self.min_delay, self.max_delay))

    def poll(self) -> bool:
        """One poll. True when a new bundle was activated; never raises for a server's fault."""
        with self._lock:
            self._state["last_attempt"] = _now()
            try:
                activated = self._poll()
            except Exception as exc:  # every failure keeps the last good bundle
                self._state["last_error"] = {"time": _now(), "message": _describe(exc)}
                self._state["consecutive_failures"] += 1
                return False
            self._state["last_success"] = _now()
            self._state["consecutive_failures"] = 0
            return activated

    def _poll(self) -> bool:
        headers = {"User-Agent": "usage-policy-bundle-client", **self.headers}
        if self._etag and self._bundle is not None:
            headers["If-None-Match"] = self._etag
        request = urllib.request.Request(self.url, headers=headers)
        deadline = time.monotonic() + self.timeout  # for the whole poll, not for each read
        try:
            response = _OPENER.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return False
            raise
        with response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                raise BundleError(f"the server offers {int(length):,} bytes, over the limit of {self.max_bytes:,}")
            data = _read_before(response, self.max_bytes + 1, deadline, self.timeout)
            if len(data) > self.max_bytes:
                raise BundleError(f"the download is over the limit of {self.max_bytes:,} bytes")
            if length is not None and length.isdigit() and len(data) != int(length):
                raise BundleError(f"the download is truncated ({len(data):,} of {int(length):,} bytes)")
            etag = response.headers.get("ETag")
        bundle = Bundle.from_bytes(data, self.key, self.url)
        if not self._newer(bundle):
            self._etag = etag  # the same or refused: do not download it again and again
            return False
        self._activate(bundle, "server", etag)
        if self.cache_dir is not None:
            self._save_cache(data, etag)
        return True

    def _newer(self, bundle: Bundle) -> bool:
        active = self._bundle
        if active is None:
            return True
        if bundle.revision == active.revision and bundle.data == active.data:
            return False
        if self.allow_rollback or active.sequence is None:
            return True  # nothing to order by (the active bundle has no sequence), or asked not to
        new = bundle.sequence
        if new is None:
            raise BundleError(f"refusing a bundle without a sequence in its manifest (revision {bundle.revision[:12]}): "
                              f"the active one has sequence {active.sequence}, so this one cannot be shown to be "
                              f"newer (build it from a full clone of the repository, not a shallow one)")
        if new < active.sequence or (new == active.sequence and bundle.revision != active.revision):
            raise BundleError(f"refusing a rollback: the server's bundle (revision {bundle.revision[:12]}, sequence "
                              f"{new}) is not newer than the active one (revision {active.revision[:12]}, "
                              f"sequence {active.sequence})")
        return True

    def _activate(self, bundle: Bundle, source: str, etag: str | None, fetched: float | None = None) -> None:
        """``fetched``: when the bundle was downloaded (epoch seconds; now unless it comes from the
        cache, which remembers it), so its age survives a restart."""
        self._bundle = bundle  # the swap: a single reference assignment
        self._etag = etag
        self._fetched = fetched if fetched is not None else time.time()
        self._state.update(source=source, activated_at=_now(), activated_monotonic=time.monotonic(),
                           activations=self._state["activations"] + 1)

    # ---- the cache -------------------------------------------------------------------------------

    def _save_cache(self, data: bytes, etag: str | None) -> None:
        if self.cache_dir is None:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            for name, content in (("bundle.tar.gz", data),
                                  ("bundle.json", json.dumps({"etag": etag, "url": self.url,
                                                              "fetched": self._fetched}).encode())):
                tmp = self.cache_dir / f".{name}.{os.getpid()}.tmp"
                with open(tmp, "wb") as fh:
                    fh.write(content)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.cache_dir / name)
        except OSError as exc:
            self._state["last_error"] = {"time": _now(), "message": f"could not write the cache: {exc}"}

    def _load_cache(self) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / "bundle.tar.gz"
        if not path.is_file():
            return
        try:
            bundle = Bundle.from_bytes(path.read_bytes(), self.key, str(path))
            meta = json.loads((self.cache_dir / "bundle.json").read_text())
        except (BundleError, OSError, ValueError) as exc:
            self._state["last_error"] = {"time": _now(), "message": f"the cached bundle was refused: {_describe(exc)}"}
            return
        fetched = meta.get("fetched")
        self._activate(bundle, "cache", meta.get("etag") if meta.get("url") == self.url else None,
                       float(fetched) if isinstance(fetched, (int, float)) and not isinstance(fetched, bool) else None)

    # ---- health ----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """For health checks: what is active, where from, when it last worked, what failed."""
        bundle = self._bundle
        state = dict(self._state)
        state.pop("activated_monotonic")
        return {
            "ready": bundle is not None,
            "active_revision": bundle.revision if bundle else None,
            "policy_version": bundle.version if bundle else None,
            # since the active bundle was downloaded, across restarts (the cache remembers when)
            "age_seconds": round(max(0.0, time.time() - self._fetched), 3) if bundle is not None else None,
            "sequence": bundle.sequence if bundle else None,
            "etag": self._etag,
            **state,
        }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} from the bundle server"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the bundle server ({exc.reason})"
    if isinstance(exc, http.client.IncompleteRead):
        return "the download is truncated (the connection closed early)"
    if isinstance(exc, TimeoutError) and str(exc).startswith("the download did not finish"):
        return str(exc)
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "the bundle server did not answer in time"
    if isinstance(exc, BundleError):
        return f"bundle refused: {exc}"
    return f"{type(exc).__name__}: {exc}"

