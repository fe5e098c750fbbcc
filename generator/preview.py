"""`policy preview`: build into a temporary folder, serve it on 127.0.0.1, rebuild on every save.

Rebuilds keep the checked source files and the rendered pages in memory, so only what changed
is parsed and rendered again. When the sources are invalid, every page shows the errors (escaped,
with file, line and column) instead of the site, until they are fixed; the server keeps running.
"""

from __future__ import annotations

import functools
import html
import http.server
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from .build import BuildResult, build
from .errors import Diagnostic, PolicyError, ValidationFailed

WATCHED = ("policy", "exceptions", "pyproject.toml")


class Preview:
    """The preview server. ``start()`` builds once and serves; ``stop()`` shuts it down."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000,
                 on_build: Callable[["Preview"], None] | None = None):
        self.root = Path(root)
        self.on_build = on_build
        self.host = host
        self.port = port
        self._folder = Path(tempfile.mkdtemp(prefix="policy-preview-"))
        self.out = self._folder / "site"
        self._pages: dict = {}
        self._sources: dict = {}
        self._lock = threading.Lock()
        self.errors: list[Diagnostic] = []
        self.failure = ""  # a problem that is not about one source file
        self.builds = 0
        self.last_result: BuildResult | None = None  # the result of the last successful build
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def rebuild(self) -> bool:
        """Build now; True when the site is up to date, False when the sources have errors."""
        with self._lock:
            if self.builds == 0:  # the files `policy check` or `policy build` checked last: not parsed again
                from .validate.stagecache import Saved

                self._sources.update(Saved(self.root))
            try:
                # no PDFs while editing: a second per document on every save; `policy build` makes them
                self.last_result = build(self.root, self.out, memory=self._pages, sources=self._sources, pdf=False,
                                         preview=True)
            except ValidationFailed as exc:
                self.errors, self.failure = exc.errors, ""
            except PolicyError as exc:
                self.errors, self.failure = [], str(exc)
            else:
                self.errors, self.failure = [], ""
            self.builds += 1
            ok = not (self.errors or self.failure)
        if self.on_build is not None:
            self.on_build(self)
        return ok

    def start(self) -> None:
        self.rebuild()
        handler = functools.partial(_Handler, preview=self)
        self._server = http.server.ThreadingHTTPServer((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        serve = threading.Thread(target=self._server.serve_forever, name="policy-preview-http", daemon=True)
        watch = threading.Thread(target=self._watch, name="policy-preview-watch", daemon=True)
        self._threads = [serve, watch]
        serve.start()
        watch.start()
        self._watching.wait(timeout=10)  # a save right after start() must not be missed

    def _watch(self) -> None:
        from watchfiles import watch

        paths = [self.root / p for p in WATCHED if (self.root / p).exists()] or [self.root]
        for changes in watch(*paths, stop_event=self._stop, debounce=200, step=50, rust_timeout=100,
                             yield_on_timeout=True):
            self._watching.set()  # the first (empty) yield: the watcher is in place
            if changes:
                self.rebuild()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)

    def error_page(self) -> bytes:
        items = "".join(f"<li><code>{html.escape(d.format())}</code></li>" for d in self.errors)
        if self.failure:
            items += f"<li>{html.escape(self.failure)}</li>"
        count = len(self.errors) or 1
        return (
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
            "<title>Policy preview: errors</title></head><body><main>"
            f"<h1>The sources have {count} error{'s' if count != 1 else ''}</h1>"
            "<p>Fix them and save: the preview rebuilds and this page shows the site again "
            "(reload the page).</p>"
            f"<ul>{items}</ul></main></body></html>"
        ).encode("utf-8")


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, preview: Preview, **kwargs):
        self.preview = preview
        super().__init__(*args, directory=str(preview.out), **kwargs)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.preview.errors or self.preview.failure:
            body = self.preview.error_page()
            self.send_response(500)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass
