"""Where things live inside a bundle, and OPA's own activation rules for them.

The bundle has two roots (DESIGN §4, corrected):

    usage_policy/policy.rego        package usage_policy: the rules, queried at data.usage_policy.decision
    usage_policy_data/data.json     the data, mounted at data.usage_policy_data

Data and rules never share a namespace, so no data key can collide with a rule and no rule reads
its own package's data (OPA refuses both: "conflicting rule for data path", rego_recursion_error).

``mount`` reads a bundle's files the way OPA's bundle reader and activator do (OPA v1:
v1/bundle/bundle.go ``Reader.Read`` and ``Bundle.validate``, v1/bundle/store.go
``activateBundles``), and refuses what OPA refuses, with OPA's reasons:

- ``.manifest`` is a JSON object; ``roots`` defaults to ``[""]`` (everything), ``revision`` is text;
- no two roots overlap, compared path segment by segment (``a`` and ``a/b`` overlap, ``a`` and
  ``another`` do not: ``RootPathsOverlap``);
- every ``.rego`` module's package lies under a root;
- every ``data.json`` is mounted at its folder's path (``x/y/data.json`` at ``data.x.y``), every
  value in it lies under a root, and two files never write the same path (a merge conflict);
- every other file is ignored, as OPA ignores it (``.signatures.json`` is checked elsewhere).

On top of OPA's rules, one of ours: no data path lies inside a package's namespace (OPA would
refuse only when a data key and a rule share a name; we refuse the layout that allows it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import BundleError

POLICY_ROOT = "usage_policy"
DATA_ROOT = "usage_policy_data"
ROOTS = (POLICY_ROOT, DATA_ROOT)
POLICY_FILE = f"{POLICY_ROOT}/policy.rego"
DATA_FILE = f"{DATA_ROOT}/data.json"
DECISION_PATH = f"{POLICY_ROOT}/decision"  # the decision query: data.usage_policy.decision
DECISION_QUERY = "data." + DECISION_PATH.replace("/", ".")
MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
LEGACY_DATA_FILE = "usage_policy/data.json"  # bundles written before the two-root layout

# `package a.b.c` (optionally `package a["b"]`); comments and blank lines may come first.
_PACKAGE = re.compile(r'^[ \t]*package[ \t]+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\["[^"\\]*"\])*)',
                      re.MULTILINE)
_REF_PART = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\["([^"\\]*)"\]')


@dataclass(frozen=True, slots=True)
class Mounted:
    """A bundle as OPA would activate it: its manifest, its modules, and its data tree."""

    manifest: dict[str, Any]
    roots: tuple[str, ...]
    modules: dict[str, str]        # file name -> Rego source
    packages: dict[str, str]       # file name -> package path, slash-separated ("usage_policy")
    data: dict[str, Any]           # the whole data document the bundle contributes


def segments(path: str) -> list[str]:
    path = path.strip("/")
    return path.split("/") if path else []


def contains(root: str, path: str) -> bool:
    """OPA's RootPathsContain for one root: ``path`` is ``root`` or below it, by segments."""
    r, p = segments(root), segments(path)
    return len(r) <= len(p) and p[:len(r)] == r


def overlap(a: str, b: str) -> bool:
    """OPA's RootPathsOverlap: one of the two paths contains the other."""
    return contains(a, b) or contains(b, a)


def package_path(source: str, name: str) -> str:
    """The package of a Rego module as a slash-separated path (``package a.b`` -> ``a/b``)."""
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _PACKAGE.match(line)
        if match is None:
            break
        ref = match.group(1)
        head = ref.split(".", 1)[0].split("[", 1)[0]  # the first name (the pattern guarantees one)
        parts = [head]
        for m in _REF_PART.finditer(ref, len(head)):
            parts.append(m.group(1) if m.group(1) is not None else m.group(2))
        return "/".join(parts)
    raise BundleError(f"{name}: a Rego module must begin with its 'package' line")


def _manifest(files: dict[str, bytes]) -> tuple[dict[str, Any], tuple[str, ...]]:
    raw = files.get(MANIFEST)
    if raw is None:
        return {}, ("",)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{MANIFEST} must be a JSON object")
    roots = manifest.get("roots", [""])
    if roots is None:
        roots = [""]
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise BundleError(f"{MANIFEST}: 'roots' must be a list of paths")
    if "revision" in manifest and not isinstance(manifest["revision"], str):
        raise BundleError(f"{MANIFEST}: 'revision' must be text")
    cleaned = tuple(r.strip("/") for r in roots)
    for i, a in enumerate(cleaned):
        for b in cleaned[i + 1:]:
            if overlap(a, b):
                raise BundleError(f"{MANIFEST} has overlapped roots: '{a}' and '{b}' (OPA refuses such a bundle)")
    return manifest, cleaned


def _check_data(value: Any, path: list[str], roots: tuple[str, ...], where: str) -> None:
    """OPA's data walk: every value lies under a root; objects on the way to a root are walked."""
    joined = "/".join(path)
    if any(contains(root, joined) for root in roots):
        return
    if isinstance(value, dict) and any(contains(joined, root) for root in roots):
        for key, child in value.items():
            _check_data(child, path + [key], roots, where)
        return
    raise BundleError(f"{where}: manifest roots {list(roots)} do not permit data at path '/{joined}'")


def _merge(tree: dict[str, Any], path: list[str], value: Any, where: str) -> None:
    node = tree
    for i, key in enumerate(path[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise BundleError(f"{where}: data at '/{'/'.join(path[:i + 1])}' is written twice (merge conflict)")
        node = child
    if not path:
        if not isinstance(value, dict):
            raise BundleError(f"{where}: data.json at the bundle's top must hold a JSON object")
        for key, child in value.items():
            _merge(tree, [key], child, where)
        return
    last = path[-1]
    if last in node:
        if isinstance(node[last], dict) and isinstance(value, dict):
            for key, child in value.items():
                _merge(node[last], [key], child, where)
            return
        raise BundleError(f"{where}: data at '/{'/'.join(path)}' is written twice (merge conflict)")
    node[last] = value


def mount(files: dict[str, bytes], where: str = "bundle") -> Mounted:
    """The bundle ``files`` (name -> bytes) as OPA would activate them. Raises BundleError."""
    manifest, roots = _manifest(files)
    modules: dict[str, str] = {}
    packages: dict[str, str] = {}
    data: dict[str, Any] = {}
    for name in sorted(files):
        base = name.rsplit("/", 1)[-1]
        if name.endswith(".rego"):
            try:
                source = files[name].decode("utf-8")
            except UnicodeDecodeError:
                raise BundleError(f"{where}: {name} is not UTF-8 text") from None
            package = package_path(source, f"{where}: {name}")
            if not any(contains(root, package) for root in roots):
                raise BundleError(f"{where}: manifest roots {list(roots)} do not permit "
                                  f"'package {package.replace('/', '.')}' in module '{name}'")
            modules[name] = source
            packages[name] = package
        elif base == "data.json":
            try:
                value = json.loads(files[name].decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise BundleError(f"{where}: {name} is not valid JSON ({exc})") from None
            folder = segments(name[:-len(base)])
            if folder:
                _check_data(value, folder, roots, f"{where}: {name}")
            elif isinstance(value, dict):
                for key, child in value.items():
                    _check_data(child, [key], roots, f"{where}: {name}")
            else:
                raise BundleError(f"{where}: {name} at the bundle's top must hold a JSON object")
            _merge(data, folder, value, f"{where}: {name}")
    for name, package in packages.items():
        clash = _data_in(data, segments(package))
        if clash is not None:
            raise BundleError(f"{where}: data at '/{clash}' lies inside the namespace of "
                              f"'package {package.replace('/', '.')}' ({name}); a data key there can "
                              f"collide with a rule, which OPA refuses: keep data under its own root")
    return Mounted(manifest, roots, modules, packages, data)


def _data_in(tree: Any, package: list[str]) -> str | None:
    """The data path that overlaps the package's path, if any (None: the two are apart)."""
    node = tree
    for i, key in enumerate(package):
        if not isinstance(node, dict):
            return "/".join(package[:i])
        if key not in node:
            return None
        node = node[key]
    return "/".join(package)
