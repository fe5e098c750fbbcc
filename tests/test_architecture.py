"""The two rooms: the runtime a service imports, and the authoring tool. The runtime loads none
of the authoring modules or their libraries; no module imports another in a cycle; the package
carries every file it reads at run time."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "generator"
AUTHORING = ("generator.load", "generator.validate", "generator.render", "generator.history", "generator.model",
             "generator.cli", "generator.commands", "generator.build", "generator.preview", "generator.config", "generator.gitinfo",
             "generator.scaffold", "generator.report", "generator.errors", "generator.bundle.write",
             "generator.bundle.data", "generator.bundle.sign", "generator.opa", "generator.schema")
LIBRARIES = ("jinja2", "git", "yaml", "markdown_it", "mdit_py_plugins", "watchfiles", "click", "jsonschema",
             "fastjsonschema")


def test_importing_the_runtime_loads_nothing_of_the_authoring_tool():
    code = ("import json, sys; import generator.runtime as r; [getattr(r, name) for name in r.__all__]; "
            "print(json.dumps(sorted(sys.modules)))")  # (the runtime's names are imported on first use)
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                       text=True, cwd=REPO / "tests").stdout)
    assert "generator.runtime" in loaded and "generator.runtime.client" in loaded
    bad = [m for m in loaded if m.startswith(AUTHORING) or m.split(".")[0] in LIBRARIES]
    assert bad == []


def test_reading_decision_events_loads_not_the_whole_service_api():
    """`policy report` needs the event definition (runtime/events.py), not the bundle client,
    the HTTP sink or signature checks: the runtime's names are imported on first use."""
    code = ("import json, sys; import generator.runtime.events, generator.report; "
            "print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                       text=True, cwd=REPO / "tests").stdout)
    assert "generator.runtime.events" in loaded
    assert [m for m in loaded if m.split(".")[0] == "cryptography" or m in ("http.client", "generator.runtime.client",
                                                                          "generator.runtime.httpsink")] == []


def test_the_build_command_loads_no_network_or_unused_libraries():
    """Every rebuild pays for what `policy build` imports at its start (0.1 s of a 0.6 s
    rebuild): the HTTP client, the decision log's network sink, git outside a repository and
    the libraries only some builds need are imported where used, not at the top."""
    code = ("import json, sys; import generator.build, generator.cli; "
            "print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                       text=True, cwd=REPO / "tests").stdout)
    assert "generator.build" in loaded
    unused = ("urllib.request", "http.client", "xml.sax", "git", "icalendar", "cryptography", "duckdb",
              "weasyprint", "watchfiles")
    assert [m for m in loaded if m.split(".")[0] in unused or m in unused] == []


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every generator module ``path`` imports, at the top or inside a function."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("generator"):
                names = [f"{target}.{a.name}" for a in node.names]
                found.update(n for n in names if (REPO / (n.replace(".", "/") + ".py")).exists()
                             or (REPO / n.replace(".", "/") / "__init__.py").exists())
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("generator"))
    found.discard(here)
    return found


def test_no_import_cycles_and_the_runtime_never_imports_the_authoring_tool():
    graph = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}
    for module, targets in graph.items():
        if module.startswith(("generator.runtime", "generator.bundle.")) and not module.startswith(AUTHORING):
            assert not [t for t in targets if t.startswith(AUTHORING)], module
    # Tarjan's strongly connected components: any component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []
