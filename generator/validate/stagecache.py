"""What checking each source file found, kept between commands, keyed by the file's content.

`policy build` and `policy check` run the per-file stage (parse, schema, model, prose checks) only
for files whose bytes changed since the last run; the cross-file checks always run. The cache
lives outside the published folder, beside the history cache (.git/policy-cache, or
$POLICY_CACHE_DIR, or the user's cache folder outside git), and is safe to delete at any time.

It is never trusted: JSON (no code is ever loaded from it), with the SHA-256 of its content, the
tool version and its format; anything else is ignored and recomputed. Model objects are written
as tagged lists of their fields and rebuilt on load, which is about ten times faster than
checking the files again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

from .. import __version__
from ..cachedir import cache_location
from ..errors import Diagnostic
from ..load import PosDict, PosList
from ..load.files import kind_of
from ..model import Document, Exception_, Model, Obligation, Origin, Permit, Positions, Rule, Section
from .links import AnchorRef

FORMAT = 1
NAME = f"stages-{__version__}-{FORMAT}.json"
_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (Diagnostic, Document, Exception_, Model, Obligation,
                                                           Origin, Permit, Rule, Section, AnchorRef)}
_FIELDS = {name: tuple(f.name for f in dataclasses.fields(cls)) for name, cls in _CLASSES.items()}


def _positions(value: Positions) -> list[Any]:
    """The positions a Positions view can answer, as [key, line, col] triples: its keys, one
    level down ("models.max_asl") and list items ("retains[0]")."""
    data, path = value._data, value._path
    out: list[Any] = []
    for key, (line, col) in data.value_pos.items():
        out.append([key, line, col])
        inner = data.get(key)
        if isinstance(inner, PosDict):
            out += [[f"{key}.{sub}", l2, c2] for sub, (l2, c2) in inner.value_pos.items()]
        elif isinstance(inner, PosList):
            out += [[f"{key}[{i}]", l2, c2] for i, (l2, c2) in enumerate(inner.item_pos)]
    return [path, out]


class _SavedPositions(Mapping[str, Origin]):
    """Positions read back from the cache, made into Origins only when first asked for (they
    serve error messages, so most are never asked for)."""

    __slots__ = ("_path", "_items", "_map")

    def __init__(self, path: str, items: list[Any]):
        self._path, self._items = path, items
        self._map: dict[str, Origin] | None = None

    def _origins(self) -> dict[str, Origin]:
        if self._map is None:
            self._map = {key: Origin(self._path, line, col) for key, line, col in self._items}
        return self._map

    def __getitem__(self, key: str) -> Origin:
        for name, line, col in self._items:  # a handful of fields: a scan beats building a dict
            if name == key:
                return Origin(self._path, line, col)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        for name, line, col in self._items:
            if name == key:
                return Origin(self._path, line, col)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._origins())

    def __len__(self) -> int:
        return len(self._items)


# Each class is written as the list of its fields, in order; nested objects as lists too. The
# readers below rebuild them field by field, knowing each field's kind (fast: no generic walk).
def _encode(value: Any) -> Any:
    if isinstance(value, Positions):
        return _positions(value)
    if isinstance(value, _SavedPositions):
        return [value._path, value._items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [_encode(getattr(value, f)) for f in _FIELDS[type(value).__name__]]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _origin(x: list[Any]) -> Origin:
    return Origin(x[0], x[1], x[2])


def _diagnostic(x: list[Any]) -> Diagnostic:
    return Diagnostic(x[0], x[1], x[2], x[3], x[4])


def _rule(x: list[Any]) -> Rule:
    return Rule(x[0], x[1], x[2], x[3], tuple(x[4]), x[5], _date(x[6]), _date(x[7]), x[8], x[9], x[10],
                _origin(x[11]), _SavedPositions(*x[12]))


def _section(x: list[Any]) -> Section:
    return Section(x[0], x[1], x[2], tuple(map(_rule, x[3])), tuple(map(_section, x[4])), x[5], _origin(x[6]))


def _document(x: list[Any]) -> Document:
    return Document(x[0], x[1], dt.date.fromisoformat(x[2]), x[3],
                    tuple(Obligation(o[0], o[1], o[2], o[3], _origin(o[4])) for o in x[4]),
                    tuple(map(_section, x[5])), x[6], _origin(x[7]), _SavedPositions(*x[8]))


def _exception(x: list[Any]) -> Exception_:
    return Exception_(x[0], x[1], x[2], dt.date.fromisoformat(x[3]), _date(x[4]), _date(x[5]), tuple(x[6]),
                      tuple(x[7]), x[8], tuple(Permit(p[0], tuple(p[1]), _origin(p[2]), _origin(p[3])) for p in x[9]),
                      tuple(x[10]), x[11], x[12], _origin(x[13]), _SavedPositions(*x[14]))


def _models(x: list[Any]) -> tuple[Model, ...]:
    return tuple(Model(m[0], m[1], m[2], _origin(m[3])) for m in x)


_READERS = {"document": _document, "exception": _exception, "models": _models}


def _check_layout() -> None:
    """The readers above follow the dataclasses' field order; fail loudly in tests if not."""
    expected = {"Rule": 13, "Section": 7, "Document": 9, "Exception_": 15, "Model": 4, "Permit": 4,
                "Obligation": 5, "Origin": 3, "Diagnostic": 5, "AnchorRef": 2}
    actual = {name: len(names) for name, names in _FIELDS.items()}
    if actual != expected:
        raise AssertionError(f"stagecache readers out of date: {actual}")


# The entries as they were read, per root: unchanged files are written back without encoding
# their model objects again (only the files that changed are encoded).
_READ: dict[str, dict[tuple[str, str], list[Any]]] = {}


def load(root: Path) -> dict:
    """The cache of per-file stages for the sources under ``root`` ({} when there is none, or
    when it is damaged, foreign or of another version)."""
    import gc

    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of objects that all live on: collection would find nothing
    try:
        return _load(root)
    finally:
        if collecting:
            gc.enable()


def _load(root: Path) -> dict:
    try:
        raw = (cache_location(root) / NAME).read_bytes()
        head, _, body = raw.partition(b"\n")
        header = orjson.loads(head)
        if header.get("tool") != __version__ or header.get("format") != FORMAT:
            return {}
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return {}
        out = {}
        read = _READ.setdefault(str(Path(root).resolve()), {})
        read.clear()
        for entry in orjson.loads(body):
            path, digest, kind, (found, obj, refs) = entry
            out[(path, digest)] = ([_diagnostic(d) for d in found],
                                   None if obj is None else _READERS[kind](obj),
                                   [AnchorRef(r[0], _diagnostic(r[1])) for r in refs])
            read[(path, digest)] = entry  # written back as it was read, if still wanted
        return out
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, orjson.JSONDecodeError):
        return {}


def save(root: Path, stages: dict) -> None:
    """Write the cache (atomically; a failure to write is no error: it is only a cache)."""
    try:
        read = _READ.get(str(Path(root).resolve()), {})
        body = orjson.dumps([read.get((path, digest)) or
                             [path, digest, kind_of(path), [_encode(found), _encode(obj), _encode(refs)]]
                             for (path, digest), (found, obj, refs) in sorted(stages.items())
                             if kind_of(path) in _READERS])
        header = orjson.dumps({"tool": __version__, "format": FORMAT, "sha256": hashlib.sha256(body).hexdigest()})
        folder = cache_location(root)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{NAME}.tmp-{os.getpid()}"
        tmp.write_bytes(header + b"\n" + body)
        os.replace(tmp, folder / NAME)
    except (OSError, TypeError, ValueError):
        pass
