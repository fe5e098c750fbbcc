"""Deciding through Open Policy Agent's own Go engine, in process.

`policy decide --engine opa` and the conformance tests use this to show that the bundle means
the same in OPA as in the Python library. The engine is the wheel ``opa-golib-python-bindings``
(OPA v1.20.2 as a Go c-shared library, module ``opa_bindings``). Its metadata asks for Python
3.14 but it runs on 3.11, so ``scripts/fetch-engines.sh`` unpacks the pinned wheel into
``.engines/opa``; this module finds it there, in ``$POLICY_OPA_PATH``, or installed.

The bundle is loaded as OPA's bundle plugin loads it (``bundle.layout.mount``): manifest roots
checked, each data.json mounted at its folder's path, each .rego module added under its name.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .bundle.layout import DECISION_PATH, mount
from .bundle.errors import BundleError
from .errors import UsageError

ENV_PATH = "POLICY_OPA_PATH"
NO_INPUT = object()  # a request with no input document at all (OPA: `input` undefined)


def _places() -> list[Path]:
    """$POLICY_OPA_PATH when set (and then only it); else .engines/opa in the current folder or
    beside the package (a checkout)."""
    if os.environ.get(ENV_PATH):
        return [Path(os.environ[ENV_PATH])]
    here = Path(__file__).resolve().parent.parent
    return [Path.cwd() / ".engines" / "opa", here / ".engines" / "opa"]


def load_bindings():
    """The ``opa_bindings`` module, or UsageError saying how to get it."""
    if "opa_bindings" in sys.modules:
        return sys.modules["opa_bindings"]
    if not os.environ.get(ENV_PATH):
        try:
            return importlib.import_module("opa_bindings")  # installed the ordinary way (Python 3.14)
        except ImportError:
            pass
    for place in _places():
        if (place / "opa_bindings" / "__init__.py").is_file():
            sys.path.insert(0, str(place))
            try:
                return importlib.import_module("opa_bindings")
            except ImportError:
                sys.path.remove(str(place))
            except OSError as exc:  # the shared library would not load (another platform)
                raise UsageError(f"OPA's engine in {place} cannot be loaded here: {exc}") from None
    raise UsageError("OPA's engine is not available: run 'bash scripts/fetch-engines.sh' in a checkout of this "
                     f"project (it unpacks the pinned opa-golib-python-bindings wheel into .engines/opa), or set "
                     f"{ENV_PATH} to a folder holding opa_bindings/ (the unpacked wheel)")


class OpaDecider:
    """A bundle activated in OPA's engine; ``decide`` queries ``data.usage_policy.decision``."""

    engine_name = "opa"

    def __init__(self, files: dict[str, bytes], where: str = "bundle"):
        bindings = load_bindings()
        mounted = mount(files, where)
        self._bindings = bindings
        self.engine = bindings.OpaEngine()
        try:
            if mounted.data:
                self.engine.add_data(mounted.data)
            for name, source in mounted.modules.items():
                self.engine.add_policy(name, source)
            # Compile now (OPA activates a bundle before serving it), so a refusal shows here.
            self.engine.eval_query("x := 1")
        except bindings.OpaError as exc:
            raise BundleError(f"OPA refuses {where}: {exc}") from None
        self._path = DECISION_PATH.replace("/", ".").encode()

    def decide(self, request: Any = NO_INPUT) -> dict:
        """The decision object for ``request`` (a JSON value; NO_INPUT for none at all)."""
        raw = b"" if request is NO_INPUT else json.dumps(request, ensure_ascii=False).encode("utf-8")
        envelope = self.engine._call(self.engine._lib.OpaEvalDocument, self._path, raw, 0, 0)
        results = envelope.get("result") or []
        if not results or not results[0].get("expressions"):
            raise BundleError("OPA's engine gave no decision (undefined) for this request")
        return results[0]["expressions"][0]["value"]

    def close(self) -> None:
        self.engine.close()
