"""The decision event: the one definition of its shape, written by the decision log (as dicts
for a callable sink, as spliced bytes by the writer process) and read by `policy report`.

An event is one JSON object, in OPA's decision-log shape:

    {"decision_id": "...", "timestamp": "2025-01-15T10:00:00.123456Z", "path": "usage_policy/decision",
     "bundles": {"usage_policy": {"revision": "<sha>"}}, "input": {...}, "result": {...},
     "erased": ["/input/customer/attestations"], "labels": {...}}

``erased`` and ``labels`` appear only when they are not empty. Both encoders below build it
from the same parts; tests/test_decisionlog.py checks that they agree byte for byte.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from typing import Any, Iterable

import orjson

from ..bundle.layout import DECISION_PATH

PATH = DECISION_PATH  # the decision's path, as OPA logs it
BUNDLE = "usage_policy"  # the bundle's name in "bundles" (the name OPA's configuration gives it)
FIELDS = ("decision_id", "timestamp", "path", "bundles", "input", "result", "erased", "labels")

JsonObject = dict[str, Any]


def _pointer(path: str) -> tuple[str, list[str]]:
    """A mask path (a JSON pointer into the event): ("input" | "result", the keys below it)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.strip("/").split("/")]
    if not parts or parts[0] not in ("input", "result") or len(parts) < 2:
        raise ValueError(f"mask paths start with /input/ or /result/, e.g. /input/customer/attestations "
                         f"or /result/purposes (not {path!r})")
    return parts[0], parts[1:]


def _erase(value: Any, parts: list[str]) -> tuple[Any, bool]:
    """A copy of ``value`` without the field at ``parts`` (copying only along the path)."""
    if not parts or not isinstance(value, dict) or parts[0] not in value:
        return value, False
    if len(parts) == 1:
        copy = dict(value)
        del copy[parts[0]]
        return copy, True
    inner, erased = _erase(value[parts[0]], parts[1:])
    if not erased:
        return value, False
    copy = dict(value)
    copy[parts[0]] = inner
    return copy, True


class Events:
    """Builds events: masking, a UUID-shaped id (a random prefix per log and a counter), an
    RFC 3339 timestamp with microseconds."""

    def __init__(self, mask: Iterable[str] = (), labels: dict[str, str] | None = None):
        self.masks = [(m, *_pointer(m)) for m in mask]
        self.input_masks = any(root == "input" for _, root, _ in self.masks)
        self.result_masks = any(root == "result" for _, root, _ in self.masks)
        self.labels = dict(labels or {})
        h = os.urandom(10).hex()
        self.prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-"
        self.counter = itertools.count()
        self.second: tuple[int, str] = (-1, "")

    def mask(self, request: Any, result: Any = None) -> tuple[Any, Any, list[str]]:
        """The request and the result without the masked fields (copies, only where something
        is erased), and the names of the fields that were there, in the order of the masks."""
        erased = []
        for name, root, parts in self.masks:
            if root == "input":
                request, done = _erase(request, parts)
            else:
                result, done = _erase(result, parts)
            if done:
                erased.append(name)
        return request, result, erased

    def next_id(self) -> str:
        return f"{self.prefix}{next(self.counter):012x}"

    def stamp(self, ns: int) -> str:
        second, rest = divmod(ns, 1_000_000_000)
        if self.second[0] != second:
            self.second = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
        return f"{self.second[1]}{rest // 1000:06d}Z"

    def event(self, ns: int, request: Any, result: JsonObject) -> JsonObject:
        """The event as a dict (for a callable sink)."""
        revision = result.get("revision", "")
        request, result, erased = self.mask(request, result)
        return as_dict(self.next_id(), self.stamp(ns), revision, request, result, erased, self.labels)


def as_dict(decision_id: str, timestamp: str, revision: Any, request: Any, result: JsonObject,
            erased: list[str], labels: dict[str, str]) -> JsonObject:
    event: JsonObject = {"decision_id": decision_id, "timestamp": timestamp, "path": PATH,
                         "bundles": {BUNDLE: {"revision": revision}}, "input": request, "result": result}
    if erased:
        event["erased"] = erased
    if labels:
        event["labels"] = labels
    return event


_LINE = (b'{"decision_id":"%s","timestamp":"%s","path":' + orjson.dumps(PATH)
         + b',"bundles":{' + orjson.dumps(BUNDLE) + b':{"revision":%s}},"input":%s,"result":%s%s%s}\n')


def encode_line(decision_id: bytes, timestamp: bytes, revision_json: bytes, input_json: bytes,
                result_json: bytes, erased: list[str], labels_json: bytes | None) -> bytes:
    """The event as one JSON line, spliced from parts already encoded (for the writer process).
    ``decision_id`` and ``timestamp`` are ASCII without quotes or backslashes."""
    extra = b',"erased":' + orjson.dumps(erased) if erased else b""
    tail = b',"labels":' + labels_json if labels_json else b""
    return _LINE % (decision_id, timestamp, revision_json, input_json, result_json, extra, tail)


@dataclass(frozen=True, slots=True)
class Event:
    """What `policy report` reads from one event."""

    timestamp: str
    allowed: bool
    rule: str | None
    customer_type: str | None
    reasons: tuple[JsonObject, ...]
    service: str | None = None  # the event's "service" label


def parse(line: bytes) -> Event | None:
    """One line of a decision log as an Event, or None when it is not an event (a line cut by a
    crash, or anything else; ``why_not`` says which)."""
    return parse_or_reason(line)[0]


def parse_or_reason(line: bytes) -> tuple[Event | None, str]:
    """(the Event, "") or (None, why the line is not an event)."""
    try:
        event = orjson.loads(line)
    except (orjson.JSONDecodeError, RecursionError):
        return None, "not JSON"
    if not isinstance(event, dict):
        return None, "not a JSON object"
    stamp, result = event.get("timestamp"), event.get("result")
    if not isinstance(stamp, str) or len(stamp) < 10:
        return None, "no timestamp as text"
    if not isinstance(result, dict):
        return None, "no result object"
    if not isinstance(result.get("allowed"), bool):
        return None, "result.allowed is not true or false"
    request = event.get("input")
    customer = request.get("customer") if isinstance(request, dict) else None
    ctype = customer.get("type") if isinstance(customer, dict) else None
    rule = result.get("rule")
    reasons = result.get("reasons")
    labels = event.get("labels")
    service = labels.get("service") if isinstance(labels, dict) else None
    return Event(stamp, result["allowed"], rule if isinstance(rule, str) else None,
                 ctype if isinstance(ctype, str) else None,
                 tuple(r for r in reasons if isinstance(r, dict)) if isinstance(reasons, list) else (),
                 service if isinstance(service, str) else None), ""
