"""The import rules of DESIGN.md section 2, checked on the source (module-level imports,
`if TYPE_CHECKING:` blocks excluded; imports inside functions are the CLI's lazy ones):

- `domain` imports only the standard library and eventsourcing's modelling API;
- `projections` imports nothing from `app`; nothing outside `app` (but tests, benchmarks
  and the entry points) imports `app`;
- `app/service/` and `app/store/` import nothing from `app.http`, `app.realtime`,
  `app.edge`, `app.server`, FastAPI, Starlette or uvicorn;
- no import cycle among the modules of `app`, `domain` and `projections`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "domain", "projections")


def _path(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_imports(path: Path) -> set[str]:
    """The modules `path` imports at module level (absolute names)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import submodule` imports the submodule (every import of a
            # submodule initialises its package first; that is not counted as an edge)
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            submodules = [n for n in names if _path(n).exists()]
            found.update(submodules)
            if len(submodules) < len(names):
                found.add(node.module)
        elif isinstance(node, ast.If) and not _type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def graph() -> dict[str, set[str]]:
    modules = {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges[name] = {m for m in module_imports(path) if m in modules and m != name}
    return edges


GRAPH = graph()


def imports_of(prefix: str) -> list[tuple[str, str]]:
    return [
        (name, imported)
        for name in GRAPH
        if name == prefix or name.startswith(prefix + ".")
        for imported in module_imports(_path(name))
    ]


def _top(imported: str) -> str:
    return imported.split(".")[0]


def test_domain_imports_only_the_stdlib_and_eventsourcing_modelling() -> None:
    allowed_third_party = {"eventsourcing.domain", "eventsourcing.utils"}
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = [
        (name, imported)
        for name, imported in imports_of("domain")
        if _top(imported) not in stdlib | {"domain"}
        and not any(imported.startswith(a) for a in allowed_third_party)
    ]
    assert bad == []


@pytest.mark.parametrize("package", ["domain", "projections"])
def test_the_model_and_the_read_side_never_import_the_app(package: str) -> None:
    assert [(n, i) for n, i in imports_of(package) if _top(i) == "app"] == []


FORBIDDEN_FOR_CORE = ("app.http", "app.realtime", "app.edge", "app.server", "app.asgi")
FRAMEWORKS = ("fastapi", "starlette", "uvicorn")


@pytest.mark.parametrize("package", ["app.service", "app.store"])
def test_services_and_store_know_no_http_sockets_or_server(package: str) -> None:
    bad = [
        (name, imported)
        for name, imported in imports_of(package)
        if _top(imported) in FRAMEWORKS
        or any(imported == f or imported.startswith(f + ".") for f in FORBIDDEN_FOR_CORE)
    ]
    assert bad == []


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_rules_can_fail() -> None:
    """The checker sees a forbidden import and a cycle when there is one."""
    before = dict(GRAPH)
    try:
        GRAPH["app.service.cases"] = GRAPH["app.service.cases"] | {"app.bootstrap"}
        with pytest.raises(AssertionError):
            test_no_import_cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(before)
    assert "fastapi" in module_imports(ROOT / "app" / "http" / "deps.py")
