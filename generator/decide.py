"""Deprecated alias of generator.runtime (the decision library's home since 0.2).

Services written against 0.1 imported ``from generator.decide import Bundle``; this keeps them
working and warns. Import from generator.runtime instead.
"""

from __future__ import annotations

import warnings

from .runtime import Bundle, BundleClient, BundleError, Decision, DecisionLog, JsonLinesSink

warnings.warn("generator.decide is deprecated: import from generator.runtime", DeprecationWarning, stacklevel=2)

__all__ = ["Bundle", "BundleClient", "BundleError", "Decision", "DecisionLog", "JsonLinesSink"]
