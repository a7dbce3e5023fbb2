"""The package's layering, checked on the source: every import points down the layers of
docs/architecture.md, no module imports another package's private names, MuJoCo is imported in one
module, and no source file is longer than 500 lines.

Imports are read with `ast` from every module of src/realitygap (also those inside functions).
Registries that name their entries as "module:Class" strings and import them on first use
(scenarios, sources) are plugin lookups, not import arrows, and are not seen here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "realitygap"
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core", "metrics"}),
    frozenset({"scenarios", "episode"}),
    frozenset({"prompts", "sim"}),
    frozenset({"sources", "measure"}),
    frozenset({"clip"}),
    frozenset({"worldmodel", "scorecard", "experiments"}),
    frozenset({"report"}),
    frozenset({"pipeline"}),
    frozenset({"downstream"}),
    frozenset({"carboncopy"}),
    frozenset({"cli"}),
)
"""Bottom up. A package may import only packages of lower layers, itself, and `runtime` (the error types,
atomic writes, executors and progress bars beside everything, which import nothing of ours)."""
BESIDE = frozenset({"runtime"})
MAX_LINES = 500


def test_every_import_points_down_the_layers():
    upward = [f"{module}: {package} -> {target} ({name})" for module, package, target, name in _imports()
              if not _allowed(package, target)]
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_the_package_graph_has_no_cycles():
    graph: dict[str, set[str]] = {}
    for _, package, target, _ in _imports():
        if package != target:
            graph.setdefault(package, set()).add(target)
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_no_module_imports_another_packages_private_names():
    private = [f"{module}: {name}" for module, package, target, name in _imports()
               if package != target and any(part.startswith("_") and part != "__version__" for part in name.split("."))]
    assert not private, "private names imported across packages:\n" + "\n".join(private)


def test_mujoco_is_imported_in_exactly_one_module():
    importers = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                       if any(name.split(".")[0] == "mujoco" for name in _imported_names(path)))
    assert importers == ["core/mj.py"]


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_source_file_is_longer_than_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{lines} lines"


def test_every_package_has_a_layer():
    packages = {_package(path) for path in SRC.rglob("*.py")} - {""}
    assert packages <= set().union(*LAYERS) | BESIDE, packages - set().union(*LAYERS) - BESIDE


def _allowed(package: str, target: str) -> bool:
    if target in ("", package) or target in BESIDE:
        return True
    if package in BESIDE:
        return False
    return _layer(target) < _layer(package)


def _layer(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def _package(path: Path) -> str:
    """'sim' for src/realitygap/sim/runner.py, 'cli' for src/realitygap/cli.py, '' for the package root."""
    parts = path.relative_to(SRC).parts
    if len(parts) == 1:
        return "" if parts[0] == "__init__.py" else parts[0].removesuffix(".py")
    return parts[0]


def _imports() -> list[tuple[str, str, str, str]]:
    """(module, its package, imported package, imported name) for every import of realitygap.*."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for name in _imported_names(path):
            parts = name.split(".")
            if parts[0] != "realitygap":
                continue
            target = parts[1] if len(parts) > 1 and not parts[1].startswith("__") else ""
            found.append((str(path.relative_to(SRC)), _package(path), target, name))
    return found


def _imported_names(path: Path) -> list[str]:
    """Dotted names a module imports: 'a.b' for `import a.b`, 'a.b.c' for `from a.b import c`."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a list of nodes (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None
