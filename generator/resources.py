"""Files the installed package reads at run time (schemas, templates, assets, policy.rego).

A missing one means a broken installation: PackagingError, naming the file, never a "bad
bundle" or a Python traceback. tests/test_packaging.py checks that the wheel and the sdist
carry every such file."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from .bundle.errors import PackagingError


def _files(package: str) -> Traversable:
    return resources.files(package)


def resource(package: str, *parts: str) -> Traversable:
    """The file or folder ``parts`` inside ``package``; PackagingError when it is absent."""
    place = _files(package)
    for part in parts:
        place = place.joinpath(part)
    if not (place.is_file() or place.is_dir()):
        name = "/".join([package.replace(".", "/"), *parts])
        raise PackagingError(f"the installed package lacks {name}; reinstall usage-policy-as-code "
                             f"(a packaging error, not a problem with your files)")
    return place


def read_resource(package: str, *parts: str) -> bytes:
    return resource(package, *parts).read_bytes()
