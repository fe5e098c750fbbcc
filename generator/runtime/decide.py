"""The decision library: load a rule bundle once, then decide requests (DESIGN §5).

    from generator.runtime import Bundle
    bundle = Bundle.load("site/bundle/bundle.tar.gz", public_key="public.pem")
    decision = bundle.decide({"use": "surveillance.intelligence-analysis", ...})
    decision.allowed, decision.reasons, decision.to_dict()

Reads bundles only, never YAML. A bundle is refused at load (BundleError), never used, when
its signature does not verify, when it is unsigned while a key is given, or when its data does
not match the schema version this library knows. ``decide`` is a pure function of the bundle
and the request: no I/O, no shared mutable state (safe to call from many threads).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import orjson
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, Callable, Mapping

from ..bundle import SCHEMA_VERSION
from ..bundle.archive import read_archive, read_bundle
from ..bundle.errors import BundleError
from ..bundle.layout import DATA_FILE, DATA_ROOT, LEGACY_DATA_FILE, mount
from ..bundle.verify import SIGNATURES, PublicKey, load_public_key, verify
from ..facts import in_force, valid_date
from ..resources import read_resource

__all__ = ["Bundle", "BundleError", "Decision", "Reason"]

_encode = orjson.dumps
_clock = time.time


def _all_text(items: list[Any]) -> bool:
    """Every item is a string (str.join refuses anything else; faster than a loop)."""
    try:
        "".join(items)
    except TypeError:
        return False
    return True



class Reason(dict[str, str]):
    """One reason of a decision: {"code": ..., "exception": ..., "detail": ...}. Read-only, so
    decisions can be shared between threads and requests (the memo does); a plain dict in JSON
    and in comparisons."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a decision's reasons are read-only; copy one with dict(reason)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only


_EMPTY: tuple[str, ...] = ()
MEMO_SIZE = 10_000  # decisions remembered per bundle (the memo is emptied when it is full)
_SAMPLE = 31  # remember one miss in _SAMPLE + 1


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision. ``reasons`` are dicts with ``code`` and, where they apply, ``exception``
    and ``detail``; treat them as read-only (they may be shared between decisions)."""

    allowed: bool
    use: str | None
    rule: str | None
    effect: str | None
    exception: str | None
    purposes: tuple[str, ...]
    obligations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    revision: str
    version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "use": self.use, "rule": self.rule, "effect": self.effect,
                "exception": self.exception, "purposes": list(self.purposes),
                "obligations": list(self.obligations), "reasons": [dict(r) for r in self.reasons],
                "revision": self.revision, "version": self.version}


def _decision_factory() -> Callable[..., Decision]:
    """Decision(...) without the frozen dataclass's ten object.__setattr__ calls: the slots are
    filled through their descriptors (about twice as fast; the object is the same frozen,
    comparable dataclass, which orjson encodes as an object)."""
    new = object.__new__
    setters = [getattr(Decision, f.name).__set__ for f in fields(Decision)]
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 = setters

    def make(allowed: bool, use: str | None, rule: str | None, effect: str | None, exception: str | None,
             purposes: tuple[str, ...], obligations: tuple[str, ...], reasons: tuple[Reason, ...],
             revision: str, version: str | None) -> Decision:
        d = new(Decision)
        s0(d, allowed), s1(d, use), s2(d, rule), s3(d, effect), s4(d, exception)
        s5(d, purposes), s6(d, obligations), s7(d, reasons), s8(d, revision), s9(d, version)
        return d

    return make


_make = _decision_factory()


@cache
def _schema_validator() -> Any:
    """data.schema.json, compiled by jsonschema-rs (Rust): about 5 ms for a 10,000-rule bundle."""
    import jsonschema_rs

    schema = json.loads(read_resource("generator.bundle", "data.schema.json"))
    return jsonschema_rs.Draft7Validator(schema)


class _Rule:
    __slots__ = ("id", "effect", "obligations", "effective", "retired", "version", "fixed")

    def __init__(self, rule_id: str, effect: str, obligations: tuple[str, ...], effective: str | None,
                 retired: str | None, version: str | None):
        self.id, self.effect, self.obligations = rule_id, effect, obligations
        self.effective, self.retired, self.version = effective, retired, version
        self.fixed: dict[str, Decision] = {}

    def decision(self, kind: str, bundle: "Bundle") -> "Decision":
        """Decisions that depend on nothing but the rule, made once on first use (immutable, so
        two threads racing to make one make equal objects; either may be kept)."""
        made = self.fixed.get(kind)
        if made is None:
            options: dict[str, tuple[bool, tuple[str, ...], tuple[Reason, ...]]] = {
                "not-in-force": (True, _EMPTY, _NOT_IN_FORCE),
                "requirement": (True, self.obligations, _REQUIREMENT),
                "no-exception": (False, _EMPTY, _NO_EXCEPTION),
            }
            allowed, obligations, reasons = options[kind]
            made = _make(allowed, self.id, self.id, self.effect, None, _EMPTY, obligations, reasons,
                            bundle.revision, self.version)
            self.fixed[kind] = made
        return made


class _Exception:
    __slots__ = ("id", "active", "effective", "expires", "types", "attestations", "max_asl", "permits")

    def __init__(self, exc_id: str, e: Mapping[str, Any]):
        self.id, self.active = exc_id, e["status"] == "active"
        self.effective: str = e["effective"]
        self.expires: str | None = e["expires"]
        self.types: frozenset[str] = frozenset(e["customer_types"])
        self.attestations: tuple[str, ...] = tuple(e["attestations"])
        self.max_asl: int = e["max_asl"]
        self.permits: dict[str, tuple[str, ...]] = {rule_id: tuple(purposes)
                                                    for rule_id, purposes in e["permits"].items()}


_NOT_IN_FORCE: tuple[Reason, ...] = (Reason(code="not-in-force"),)
_REQUIREMENT: tuple[Reason, ...] = (Reason(code="requirement"),)
_NO_EXCEPTION: tuple[Reason, ...] = (Reason(code="no-exception"),)
_UNKNOWN_RULE: tuple[Reason, ...] = (Reason(code="unknown-rule"),)


class Bundle:
    """A loaded, verified bundle. Immutable after construction."""

    def __init__(self, data: Mapping[str, Any], files: Mapping[str, bytes] | None = None):
        import jsonschema_rs

        try:
            _schema_validator().validate(data)
        except jsonschema_rs.ValidationError as exc:
            version = data.get("schema_version") if isinstance(data, dict) else None
            if version != SCHEMA_VERSION:
                raise BundleError(f"the bundle's data has schema_version {version!r}; this library reads "
                                  f"version {SCHEMA_VERSION} only: upgrade the library or rebuild the bundle") from None
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BundleError(f"the bundle's data.json does not match its schema: {first}") from None
        self.data = data
        self.files = dict(files or {})
        self.revision: str = data["revision"]
        self.version: str = data["version"]
        self._models: dict[str, int] = {k: v["asl"] for k, v in data["models"].items()}
        self._rules: dict[str, _Rule] = {}
        versions = {doc_id: doc["effective"] for doc_id, doc in data["documents"].items()}
        for rule_id, r in data["rules"].items():
            self._rules[rule_id] = _Rule(rule_id, r["effect"], tuple(r["obligations"]), r["effective"], r["retired"],
                                         versions.get(r["document"], self.version))
        self._exceptions: dict[str, _Exception] = {exc_id: _Exception(exc_id, e)
                                                    for exc_id, e in data["exceptions"].items()}
        self._today = (-1, "")
        self._memo: dict[bytes, Decision] = {}
        self._memo_today: dict[bytes, Decision] = {}
        self._memo_day = -1
        self._misses = 0
        self._dates: dict[str, bool] = {}

    # ---- loading ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, public_key: str | Path | None = None) -> "Bundle":
        """Load a bundle: a ``.tar.gz``, an extracted bundle folder, or a folder holding
        ``bundle.tar.gz`` (such as ``site/bundle``). With ``public_key`` (a PEM file), the bundle
        must carry a signature that verifies with it. Raises BundleError."""
        key = load_public_key(Path(public_key)) if public_key is not None else None
        return cls.from_files(read_bundle(Path(path)), key, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, key: PublicKey | None = None, where: str = "bundle") -> "Bundle":
        """A bundle from the bytes of a ``.tar.gz``; ``key``: (public key, algorithm) as
        returned by ``load_public_key``, or None. Raises BundleError."""
        return cls.from_files(read_archive(data, where), key, where)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], key: PublicKey | None = None, where: str = "bundle") -> "Bundle":
        """A bundle from its files (name -> bytes), read as OPA's bundle plugin reads them.
        Raises BundleError."""
        files = dict(files)
        signatures = files.pop(SIGNATURES, None)
        if key is not None:
            if signatures is None:
                raise BundleError(f"{where} is not signed, but a public key was given; refusing an unsigned bundle")
            verify(files, signatures, *key)
        if DATA_FILE not in files:
            if LEGACY_DATA_FILE in files:
                raise BundleError(f"{where} has the layout of policy 0.1 bundles ({LEGACY_DATA_FILE}), which OPA "
                                  f"refuses to activate; rebuild it with this version's 'policy build'")
            raise BundleError(f"{where} holds no {DATA_FILE}; is it a usage-policy bundle?")
        # Read as OPA's bundle plugin reads it: a bundle OPA would refuse is refused here too.
        data = mount(files, where).data.get(DATA_ROOT)
        if not isinstance(data, dict):
            raise BundleError(f"{DATA_FILE} in {where} must hold a JSON object")
        if signatures is not None:
            files[SIGNATURES] = signatures
        return cls(data, files)

    @property
    def manifest(self) -> dict[str, Any]:
        try:
            value = json.loads(self.files.get(".manifest", b"{}"))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def sequence(self) -> int | None:
        """The manifest's ``metadata.sequence``: how many commits the first-parent line of the
        sources held when the bundle was built. Orders bundles (rollback protection)."""
        metadata = self.manifest.get("metadata")
        value = metadata.get("sequence") if isinstance(metadata, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    @property
    def commit_time(self) -> str | None:
        """The commit time of the sources (ISO, UTC) from the manifest: orders bundles."""
        metadata = self.manifest.get("metadata")
        value = metadata.get("commit_time") if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else None

    # ---- deciding ---------------------------------------------------------------------------

    def _today_utc(self) -> str:
        day = int(time.time() // 86400)
        cached = self._today
        if cached[0] != day:
            cached = (day, dt.datetime.fromtimestamp(day * 86400, dt.timezone.utc).date().isoformat())
            self._today = cached
        return cached[1]

    def _date_ok(self, text: str) -> bool:
        known = self._dates.get(text)
        if known is None:
            known = valid_date(text)
            if len(self._dates) > 100_000:
                self._dates = {}
            self._dates[text] = known
        return known

    def _invalid(self, request: Any, detail: str) -> Decision:
        use = request.get("use") if isinstance(request, dict) else None
        return _make(False, use if isinstance(use, str) else None, None, None, None, _EMPTY, _EMPTY,
                        (Reason(code="invalid-request", detail=detail),), self.revision, self.version)

    def decide(self, request: Any) -> Decision:
        """Decide one request (DESIGN §5). Never raises for a bad request: it denies.

        Real traffic repeats a few request shapes, so decisions are remembered per bundle, keyed
        by the request's JSON encoding (bounded to MEMO_SIZE, emptied at midnight UTC because a
        request without 'at' means today, and gone with the bundle when a client swaps in a new
        one): a repeated request costs an encoding and a dictionary lookup. Decisions are
        immutable, so sharing them is safe."""
        try:
            key = _encode(request)
        except (TypeError, ValueError):  # not JSON-encodable as it is: decided, not remembered
            return self._decide(request)
        if type(request) is dict and request.get("at") is None:  # "today": remembered for today only
            day = int(_clock() // 86400)
            if day != self._memo_day:
                self._memo_today, self._memo_day = {}, day
            memo = self._memo_today
        else:
            memo = self._memo
        decision = memo.get(key)
        if decision is None:
            decision = self._decide(request)
            self._misses += 1
            if not self._misses & _SAMPLE:  # remember one miss in 32: a shape that repeats is soon
                if len(memo) >= MEMO_SIZE:  # remembered; a stream of all-different requests
                    memo.clear()            # does not fill memory (and the collector) in vain
                memo[key] = decision
        return decision

    def _decide(self, request: Any) -> Decision:
        if type(request) is not dict:
            return self._invalid(request, "the request must be a JSON object")
        use = request.get("use")
        if type(use) is not str:
            return self._invalid(request, "'use' must be the id of a rule, as text")
        customer = request.get("customer")
        if customer is None:
            customer = {}
        elif type(customer) is not dict:
            return self._invalid(request, "'customer' must be an object")
        ctype = customer.get("type")
        if ctype is not None and type(ctype) is not str:
            return self._invalid(request, "'customer.type' must be text")
        listed = customer.get("exceptions")
        if listed is not None and (type(listed) is not list or not _all_text(listed)):
            return self._invalid(request, "'customer.exceptions' must be a list of exception ids")
        attested = customer.get("attestations")
        if attested is not None and (type(attested) is not list or not _all_text(attested)):
            return self._invalid(request, "'customer.attestations' must be a list of attestation ids")
        model = request.get("model")
        if model is not None and type(model) is not str:
            return self._invalid(request, "'model' must be a model id, as text")
        at = request.get("at")
        if at is None:
            at = self._today_utc()
        elif type(at) is not str or not self._date_ok(at):
            return self._invalid(request, "'at' must be a date written YYYY-MM-DD")

        rule = self._rules.get(use)
        if rule is None:
            return _make(False, use, None, None, None, _EMPTY, _EMPTY, _UNKNOWN_RULE, self.revision, self.version)
        if not in_force(rule.effective, rule.retired, at):
            return rule.fixed.get("not-in-force") or rule.decision("not-in-force", self)
        if rule.effect == "require":
            return rule.fixed.get("requirement") or rule.decision("requirement", self)
        if not listed:
            return rule.fixed.get("no-exception") or rule.decision("no-exception", self)

        reasons: list[Reason] = []
        for exc_id in sorted(set(listed)):
            exc = self._exceptions.get(exc_id)
            if exc is None:
                reasons.append(Reason(code="exception-unknown", exception=exc_id))
                continue
            purposes = exc.permits.get(use)
            if purposes is None:
                reasons.append(Reason(code="exception-not-permitting", exception=exc_id))
            elif not exc.active:
                reasons.append(Reason(code="exception-not-active", exception=exc_id))
            elif not in_force(exc.effective, exc.expires, at):
                reasons.append(Reason(code="exception-not-in-force", exception=exc_id))
            elif ctype not in exc.types:
                reasons.append(Reason(code="customer-type", exception=exc_id))
            elif exc.attestations and (missing := [a for a in exc.attestations if not attested or a not in attested]):
                reasons.append(Reason(code="missing-attestation", exception=exc_id, detail=", ".join(missing)))
            elif model not in self._models:
                reasons.append(Reason(code="unknown-model", exception=exc_id))
            elif self._models[model] > exc.max_asl:
                reasons.append(Reason(code="model-above-asl-cap", exception=exc_id,
                                      detail=f"model {model} is at ASL {self._models[model]}; "
                                             f"the exception covers ASL {exc.max_asl} and below"))
            else:
                reasons.append(Reason(code="exception", exception=exc_id))
                return _make(True, use, use, "prohibit", exc_id, purposes, _EMPTY, tuple(reasons),
                                self.revision, rule.version)
        return _make(False, use, use, "prohibit", None, _EMPTY, _EMPTY, tuple(reasons),
                        self.revision, rule.version)

    def decide_json(self, request: Any) -> dict[str, Any]:
        """``decide`` as a plain dict (the JSON form)."""
        return self.decide(request).to_dict()
