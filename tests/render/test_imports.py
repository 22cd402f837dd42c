"""``bot/render`` stays a DAG (issue 10): its modules' imports, read from their source with
``ast``, form no cycle, and none hides in a function (the old way to dodge one).

The layers: ``common`` and ``words`` (what an empty digest says) import no render module;
Block Kit's pieces (``kit``) build on ``common``; the two renderers, Block Kit (``blocks``,
``digest_blocks``, ``home``) and the terminal (``text``, on ``common`` and ``words`` alone),
build on those; and the core imports no render module at all.
"""

from __future__ import annotations

import ast
import graphlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

import bot.core
import bot.render

PACKAGE = "bot.render"


class Source(NamedTuple):
    text: str
    is_package: bool  # an __init__.py: its relative imports start from itself


def sources(package: ModuleType) -> dict[str, Source]:
    """Module name -> source, for each ``.py`` file of ``package`` and its subpackages."""
    folder = Path(str(package.__file__)).parent
    out = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join((package.__name__, *parts[: -1 if is_package else None]))
        out[name] = Source(path.read_text(), is_package)
    return out


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> set[str]:
    """Every module name ``node`` may import: ``from a import b`` may be module ``a.b``."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        base = importlib.util.resolve_name("." * node.level + base, package)
    return {base} | {f"{base}.{alias.name}" for alias in node.names}


class _Imports(ast.NodeVisitor):
    """Collects a module's imports, and the lines of those inside a function or class."""

    def __init__(self) -> None:
        self.nodes: list[ast.Import | ast.ImportFrom] = []
        self.nested: list[int] = []
        self._depth = 0

    def _scope(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.nodes.append(node)
        if self._depth:
            self.nested.append(node.lineno)

    visit_Import = visit_ImportFrom = _import


def scan(module: str, source: Source) -> _Imports:
    found = _Imports()
    found.visit(ast.parse(source.text, filename=module))
    return found


def imports_of(module: str, source: Source) -> set[str]:
    """The modules ``module`` may import, anywhere in it."""
    nodes = scan(module, source).nodes
    return set().union(*(imported(n, module, source.is_package) for n in nodes))


def graph(modules: dict[str, Source]) -> dict[str, set[str]]:
    """Module -> the modules of ``modules`` it imports."""
    return {
        module: {m for m in imports_of(module, source) if m in modules and m != module}
        for module, source in modules.items()
    }


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    # graphlib (the standard library's topological sort) names the cycle it finds.
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


RENDER = sources(bot.render)
EDGES = graph(RENDER)


def test_every_render_module_is_read():
    assert {
        "bot.render",
        "bot.render.common",
        "bot.render.kit",
        "bot.render.blocks",
        "bot.render.digest_blocks",
        "bot.render.home",
        "bot.render.text",
        "bot.render.words",
    } <= set(RENDER)
    assert EDGES["bot.render.blocks"]  # the imports are found at all


def test_render_imports_form_no_cycle():
    assert cycle(EDGES) is None


@pytest.mark.parametrize("module", sorted(RENDER))
def test_no_import_inside_a_function(module):
    assert scan(module, RENDER[module]).nested == [], f"{module}: import not at module level"


def test_common_imports_no_render_module():
    assert EDGES["bot.render.common"] == set()


def test_terminal_renderer_builds_on_common_and_words_alone():
    assert EDGES["bot.render.text"] == {"bot.render.common", "bot.render.words"}


def test_words_imports_no_render_module():
    assert EDGES["bot.render.words"] == set()


def test_core_imports_no_render_module():
    core = sources(bot.core)
    assert {"bot.core", "bot.core.answers", "bot.core.markup"} <= set(core)
    for module, source in core.items():
        names = imports_of(module, source)
        assert not {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}, module


# The checker itself: each check above can fail.

FAKE = {
    "pkg": Source("", True),
    "pkg.a": Source("from pkg.b import x\n", False),
    "pkg.b": Source("def f():\n    from . import a\n    return a\n", False),
    "pkg.c": Source("import pkg.a\nclass K:\n    import os\n", False),
    "pkg.sub": Source("from .d import y\n", True),
    "pkg.sub.d": Source("from .. import c\n", False),
}


def test_checker_finds_a_cycle_through_a_relative_import_in_a_function():
    edges = graph(FAKE)
    assert edges == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg", "pkg.a"},
        "pkg.c": {"pkg.a"},
        "pkg.sub": {"pkg.sub.d"},
        "pkg.sub.d": {"pkg", "pkg.c"},
    }
    found = cycle(edges)
    assert found is not None and set(found) == {"pkg.a", "pkg.b"}
    assert cycle({m: e for m, e in edges.items() if m != "pkg.b"}) is None


def test_checker_finds_imports_in_functions_and_classes():
    assert scan("pkg.b", FAKE["pkg.b"]).nested == [2]
    assert scan("pkg.c", FAKE["pkg.c"]).nested == [3]
    assert scan("pkg.a", FAKE["pkg.a"]).nested == []
