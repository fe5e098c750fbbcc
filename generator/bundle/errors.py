"""The errors of the bundle format and of the runtime that reads bundles.

They are the runtime's own, separate from the authoring tool's (generator.errors): a service
catches ``BundleError`` and keeps its last good bundle; the command line maps each to an exit code.
"""

from __future__ import annotations


class BundleError(Exception):
    """A bundle that must not be used: tampered, unsigned while a key is required, malformed, or
    laid out in a way OPA would refuse."""


class BundleNotFound(BundleError):
    """There is no bundle at the path given (a usage mistake more than a bad bundle)."""


class KeyFileError(Exception):
    """A key file that cannot be read, or is not a key of a kind bundles are signed with."""


class PackagingError(Exception):
    """A file the installed package needs at run time is missing: the installation is broken
    (never reported as a bad bundle). The message names the file."""
