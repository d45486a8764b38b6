"""The app's modules import each other without cycles, lazy imports inside functions included.

A cycle hidden by an import inside a function still ties two modules together (the demo data
once did this); only a package's ``__init__`` may import its parts from inside its functions
(the factory's ``configure_*`` steps), since every module imports its package first anyway.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import idance_web

ROOT = Path(idance_web.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _known(name: str) -> str:
    """The module that defines ``name`` (a module, or an attribute of one)."""
    while name not in MODULES:
        name = name.rsplit(".", 1)[0]
    return name


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {_known(a.name) for a in node.names if a.name.split(".")[0] == "idance_web"}
    if node.level:
        base = module.split(".")[: len(module.split(".")) + is_package - node.level]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
        if source.split(".")[0] != "idance_web":
            return set()
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else _known(source)
            for a in node.names}


def import_graph() -> dict[str, set[str]]:
    """Module → the app's modules it imports."""
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        nodes = tree.body if is_package else ast.walk(tree)
        edges: set[str] = set()
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _targets(module, is_package, node)
        graph[module] = edges - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (strongly connected, more than one)."""
    order, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in order:
            visit(node)
    return found


def test_the_walk_sees_the_app_and_its_lazy_imports():
    graph = import_graph()
    assert {"idance_web.errors", "idance_web.services.places", "idance_web.demo.sites"} <= set(graph)
    assert "idance_web.services.options" in graph["idance_web.blocks"]
    assert "idance_web.services.options" in graph["idance_web.templating"]  # inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_round_a_cycle():
    assert cycles(import_graph()) == []


def test_every_module_imports():
    for module in MODULES:
        importlib.import_module(module)
