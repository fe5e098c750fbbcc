"""PDFs kept between builds, beside the other caches (cachedir.py), by the fingerprint of what
they show: a version's PDF never changes once published, so a build from an empty --out folder
(or after `rm -rf site`) copies it instead of laying it out again. The fingerprint includes
the tool's and WeasyPrint's versions and the templates, so nothing is trusted across versions;
a file that is not a whole PDF is dropped. Bounded (oldest dropped first); safe to delete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FOLDER = "pdfs"
LIMIT_BYTES = 256 * 1024 * 1024


class PdfCache:
    def __init__(self, cache_root: Path, limit: int = LIMIT_BYTES):
        self.folder = Path(cache_root) / FOLDER
        self.limit = limit
        self.hits = 0

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pdf"

    def get(self, key: str) -> bytes | None:
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if not (data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")):
            self._path(key).unlink(missing_ok=True)
            return None
        try:
            os.utime(self._path(key))  # recently used: kept longest
        except OSError:
            pass
        self.hits += 1
        return data

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` (best effort: a cache that cannot be written is not an error)."""
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".pdf-", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self._path(key))
            tmp = None
            self._prune()
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def _prune(self) -> None:
        entries = []
        for entry in self.folder.glob("*.pdf"):
            try:
                info = entry.stat()
            except OSError:
                continue
            entries.append((info.st_mtime, info.st_size, entry))
        total = sum(size for _, size, _ in entries)
        for _, size, entry in sorted(entries, key=lambda e: (e[0], e[2].name)):
            if total <= self.limit:
                break
            entry.unlink(missing_ok=True)
            total -= size


_active: PdfCache | None = None


def active() -> PdfCache | None:
    return _active


class caching:
    """``with caching(root):`` PDFs made inside are kept in (and taken from) root's cache folder."""

    def __init__(self, root: Path | None):
        self.root = root

    def __enter__(self):
        global _active
        if self.root is not None:
            from ..cachedir import cache_location

            _active = PdfCache(cache_location(Path(self.root)))
        return _active

    def __exit__(self, *exc):
        global _active
        _active = None
