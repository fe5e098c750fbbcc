"""Canonical JSON, and file hashes computed exactly as Open Policy Agent computes them for
bundle signatures (v1/bundle/hash.go): JSON files are parsed and re-encoded compactly with
object keys sorted, without HTML escaping; other files are hashed byte for byte."""

from __future__ import annotations

import hashlib
import json

import orjson

# Go's encoder always escapes these (raw, they can only stand inside strings)
_GO_ESCAPES = {"\u2028".encode(): b"\\u2028", "\u2029".encode(): b"\\u2029"}


def _as_go_writes(data: bytes) -> bytes:
    for raw, escape in _GO_ESCAPES.items():
        if raw in data:
            data = data.replace(raw, escape)
    return data


def canonical(value: object) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the bytes data.json is written as, and the bytes OPA
    hashes for it, so a file's hash is simply sha256 of its content."""
    return _as_go_writes(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                    allow_nan=False).encode("utf-8"))


def canonical_without_floats(value: object) -> bytes:
    """canonical(value), eight times faster (0.02 s against 0.16 s for the data.json of 50,000
    rules), for values that hold no float: the bundle's data, whose schema (data.schema.json) has
    integers only. orjson writes floats as json.dumps does not (1e16 for 1e+16); on everything
    else the bytes are the same (tests/test_bundle.py compares them on random values and checks
    that the schema has no number)."""
    return _as_go_writes(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def is_structured(name: str) -> bool:
    """Files OPA hashes as parsed JSON rather than as bytes."""
    return name.endswith(".json") or name.rsplit("/", 1)[-1] == ".manifest"


def file_hash(name: str, data: bytes) -> str:
    """SHA-256 hex digest of a bundle file as OPA computes it. Raises ValueError for a JSON file
    that does not parse."""
    if is_structured(name):
        data = canonical(json.loads(data.decode("utf-8")))
    return hashlib.sha256(data).hexdigest()
