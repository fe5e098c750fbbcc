"""What checking each source file found, kept between commands, keyed by the file's content.

`policy build` and `policy check` run the per-file stage (parse, schema, model, prose checks) only
for files whose bytes changed since the last run; the cross-file checks always run. The cache
lives outside the published folder, beside the history cache (.git/policy-cache, or
$POLICY_CACHE_DIR, or the user's cache folder outside git), and is safe to delete at any time.

It is never trusted: JSON (no code is ever loaded from it), with the SHA-256 of its content, the
tool version and its format; anything else is ignored and recomputed. Model objects are written
as JSON objects of their fields and rebuilt on load, which is about ten times faster than
checking the files again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections import abc
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import orjson

from .. import __version__
from ..cachedir import cache_location
from ..errors import Diagnostic
from ..gcpause import paused_collection
from ..load import PosDict, PosList
from ..load.files import kind_of
from ..model import Document, Exception_, Model, Obligation, Origin, Permit, Positions, Rule, Section
from .links import AnchorRef

FORMAT = 4
NAME = f"stages-{__version__}-{FORMAT}.json"
_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (Diagnostic, Document, Exception_, Model, Obligation,
                                                           Origin, Permit, Rule, Section, AnchorRef)}
_FIELDS = {name: tuple(f.name for f in dataclasses.fields(cls)) for name, cls in _CLASSES.items()}


def _positions(value: Positions) -> list[Any]:
    """What a Positions view can answer: its keys' places, and one level down the places of a
    mapping's keys ("models.max_asl") or of a list's items ("retains[0]"). Written as they are
    held (dicts and lists of [line, col]), so orjson does the work."""
    data = value._data
    nested: dict[str, Any] = {}
    for key, inner in data.items():
        if isinstance(inner, PosDict):
            nested[key] = inner.value_pos
        elif isinstance(inner, PosList):
            nested[key] = inner.item_pos
    return [value._path, data.value_pos, nested]


class _SavedPositions(Mapping[str, Origin]):
    """A Positions view read back from the cache: the same keys and answers, Origins made only
    when asked for (they serve error messages, so most are never asked for)."""

    __slots__ = ("_path", "_top", "_nested")

    def __init__(self, path: str, top: dict[str, list[int]], nested: dict[str, Any]):
        self._path, self._top, self._nested = path, top, nested

    def __getitem__(self, key: str) -> Origin:
        head, dot, sub = key.partition(".")
        if dot:
            inner = self._nested.get(head)
            if isinstance(inner, dict) and sub in inner:
                return Origin(self._path, *inner[sub])
            raise KeyError(key)
        name, bracket, index = key.partition("[")
        if bracket:
            items = self._nested.get(name)
            i = int(index.rstrip("]"))
            if isinstance(items, list) and 0 <= i < len(items):
                return Origin(self._path, *items[i])
            raise KeyError(key)
        line, col = self._top[key]
        return Origin(self._path, line, col)

    def __iter__(self) -> Iterator[str]:
        return iter(self._top)

    def __len__(self) -> int:
        return len(self._top)


# Model objects are frozen dataclasses: orjson writes them itself, as objects of their fields
# (dates as ISO text, tuples as lists), in C; only the position views need a hand. The readers
# below rebuild them field by field, knowing each field's kind (no generic walk).
def _default(value: Any) -> Any:
    if isinstance(value, Positions):
        return _positions(value)
    if isinstance(value, _SavedPositions):
        return [value._path, value._top, value._nested]
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _origin(x: dict[str, Any]) -> Origin:
    return Origin(x["path"], x["line"], x["col"])


def _diagnostic(x: dict[str, Any]) -> Diagnostic:
    return Diagnostic(x["path"], x["line"], x["col"], x["message"], x["severity"])


def _rule(x: dict[str, Any]) -> Rule:
    return Rule(x["id"], x["title"], x["text"], x["effect"], tuple(x["obligations"]), x["waivable"],
                _date(x["effective"]), _date(x["retired"]), x["replaced_by"], x["document"], x["section"],
                _origin(x["origin"]), _SavedPositions(*x["positions"]), x["notice_override"])


def _section(x: dict[str, Any]) -> Section:
    return Section(x["id"], x["title"], x["intro"], tuple(map(_rule, x["rules"])),
                   tuple(map(_section, x["sections"])), x["depth"], _origin(x["origin"]))


def _document(x: dict[str, Any]) -> Document:
    return Document(x["id"], x["title"], dt.date.fromisoformat(x["effective"]), x["summary"],
                    tuple(Obligation(o["id"], o["title"], o["text"], o["document"], _origin(o["origin"]))
                          for o in x["obligations"]),
                    tuple(map(_section, x["sections"])), x["path"], _origin(x["origin"]),
                    _SavedPositions(*x["positions"]))


def _exception(x: dict[str, Any]) -> Exception_:
    return Exception_(x["id"], x["title"], x["status"], dt.date.fromisoformat(x["effective"]),
                      _date(x["review_by"]), _date(x["expires"]), tuple(x["customer_types"]),
                      tuple(x["attestations"]), x["max_asl"],
                      tuple(Permit(p["rule"], tuple(p["purposes"]), _origin(p["origin"]), _origin(p["rule_origin"]))
                            for p in x["permits"]),
                      tuple(x["retains"]), x["summary"], x["path"], _origin(x["origin"]),
                      _SavedPositions(*x["positions"]), x["contract"], tuple(x["approved_by"]))


def _models(x: list[Any]) -> tuple[Model, ...]:
    return tuple(Model(m["id"], m["name"], m["asl"], _origin(m["origin"])) for m in x)


_READERS: dict[str, Callable[[Any], Any]] = {"document": _document, "exception": _exception, "models": _models}


def _check_layout() -> None:
    """The readers above know every field of the dataclasses; fail loudly in tests if one is added."""
    expected = {"Rule": 14, "Section": 7, "Document": 9, "Exception_": 17, "Model": 4, "Permit": 4,
                "Obligation": 5, "Origin": 3, "Diagnostic": 5, "AnchorRef": 2}
    actual = {name: len(names) for name, names in _FIELDS.items()}
    if actual != expected:
        raise AssertionError(f"stagecache readers out of date: {actual}")


# The entries as they were read (from the cache file, or from a helper process: validate/shared.py),
# by (path, SHA-256 of the file's bytes): written back without encoding their model objects
# again. An entry depends only on the file's bytes and this version of the tool, so it is good
# for any root; save keeps only the entries it wrote.
_RAW: dict[tuple[str, str], list[Any]] = {}


@paused_collection
def load(root: Path) -> dict:
    """The cache of per-file stages for the sources under ``root`` ({} when there is none, or
    when it is damaged, foreign or of another version)."""
    return _load(root)


class Saved(abc.Mapping):
    """The stage cache of ``root`` as a mapping, read on the first lookup: for `policy history`,
    whose blobs with a checked file's bytes need no parsing, and whose own cache, when warm,
    answers everything without it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._stages: dict | None = None

    def _loaded(self) -> dict:
        if self._stages is None:
            self._stages = load(self.root)
            _RAW.clear()  # (kept to write the cache back, which a reader of it never does: 200 MB at 100k rules)
        return self._stages

    def __getitem__(self, key):
        return self._loaded()[key]

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __bool__(self) -> bool:  # (without reading it)
        return True


def _load(root: Path) -> dict:
    try:
        raw = (cache_location(root) / NAME).read_bytes()
        head, _, body = raw.partition(b"\n")
        header = orjson.loads(head)
        if header.get("tool") != __version__ or header.get("format") != FORMAT:
            return {}
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return {}
        return decode(body)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, orjson.JSONDecodeError):
        return {}


def encode(stages: dict) -> bytes:
    """Per-file stages as JSON ({(path, digest): (found, obj, refs)}); entries decode read are
    written back as they were read, not encoded again."""
    return orjson.dumps([_RAW.get((path, digest)) or [path, digest, kind, [found, obj, refs]]
                         for (path, digest), (found, obj, refs) in sorted(stages.items())
                         if (kind := kind_of(path)) in _READERS], default=_default)


def decode(body: bytes) -> dict:
    """What encode wrote, rebuilt (each raw entry kept for encode). Raises ValueError (or
    KeyError, TypeError...) on anything else."""
    out = {}
    for entry in orjson.loads(body):
        path, digest, kind, (found, obj, refs) = entry
        out[(path, digest)] = ([_diagnostic(d) for d in found],
                               None if obj is None else _READERS[kind](obj),
                               [AnchorRef(r["target"], _diagnostic(r["diagnostic"])) for r in refs])
        _RAW[(path, digest)] = entry  # written back as it was read, if still wanted
    return out


@paused_collection
def save(root: Path, stages: dict) -> None:
    """Write the cache (atomically; a failure to write is no error: it is only a cache)."""
    try:
        body = encode(stages)
        for key in _RAW.keys() - stages.keys():  # (a long preview: old versions of files)
            del _RAW[key]
        header = orjson.dumps({"tool": __version__, "format": FORMAT, "sha256": hashlib.sha256(body).hexdigest()})
        folder = cache_location(root)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{NAME}.tmp-{os.getpid()}"
        tmp.write_bytes(header + b"\n" + body)
        os.replace(tmp, folder / NAME)
    except (OSError, TypeError, ValueError):
        pass
