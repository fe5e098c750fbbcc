"""The runtime: everything a service imports to decide with a rule bundle.

    from generator.runtime import Bundle, BundleClient, DecisionLog, JsonLinesSink

    bundle = Bundle.load("bundle.tar.gz", public_key="public.pem")   # verify, validate, index
    bundle.decide({"use": "weapons.design", ...})                     # a frozen Decision

It reads bundles only: it imports the bundle format (generator.bundle: archive, canonical JSON,
layout, signature verification) and its own modules, never the authoring tool (sources, YAML,
validation, pages, git history) or its libraries (Jinja2, GitPython, PyYAML, markdown-it-py).
Its own dependencies: cryptography, PyJWT, jsonschema-rs, orjson (docs/bundle.md).

Modules: decide (Bundle, Decision), client (BundleClient), decisionlog and logwriter (the
decision log and its writer process), httpsink (decision logs to a collector, as OPA sends
them), events (the decision event's one definition).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported on first use (PEP 562): a command that needs one module of the runtime (`policy
# report` reads events.py) does not import the whole service API (cryptography, http.client:
# 38 ms of a report's start).
_WHERE = {"BundleError": "..bundle.errors", "BundleNotFound": "..bundle.errors", "KeyFileError": "..bundle.errors",
          "PackagingError": "..bundle.errors", "load_public_key": "..bundle.verify", "BundleClient": ".client",
          "Bundle": ".decide", "Decision": ".decide", "Reason": ".decide", "DecisionLog": ".decisionlog",
          "JsonLinesSink": ".decisionlog", "HttpSink": ".httpsink"}

if TYPE_CHECKING:
    from ..bundle.errors import BundleError, BundleNotFound, KeyFileError, PackagingError
    from ..bundle.verify import load_public_key
    from .client import BundleClient
    from .decide import Bundle, Decision, Reason
    from .decisionlog import DecisionLog, JsonLinesSink
    from .httpsink import HttpSink


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = sorted(_WHERE)
