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

from ..bundle.errors import BundleError, BundleNotFound, KeyFileError, PackagingError
from ..bundle.verify import load_public_key
from .client import BundleClient
from .decide import Bundle, Decision, Reason
from .decisionlog import DecisionLog, JsonLinesSink
from .httpsink import HttpSink

__all__ = ["Bundle", "BundleClient", "BundleError", "BundleNotFound", "Decision", "DecisionLog", "HttpSink", "JsonLinesSink",
           "KeyFileError", "PackagingError", "Reason", "load_public_key"]
