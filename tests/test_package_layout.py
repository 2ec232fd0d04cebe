"""The package's shape is part of its design: folders for concerns, and no import circles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import jupyter_clerk

PACKAGE = Path(jupyter_clerk.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every module's imports of other jupyter_clerk modules, at any depth in the file."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("jupyter_clerk"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                graph[name].add(candidate if candidate in modules else target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else ""


def test_no_module_imports_itself_through_others() -> None:
    graph = {
        m: {t for t in ts if t != m and not m.startswith(t + ".")} for m, ts in _imports().items()
    }
    # A package's __init__ re-exporting its own modules is not a circle.
    assert _cycle(graph) is None


def test_no_two_folders_import_each_other() -> None:
    folders: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        source = _folder(module)
        for target in targets:
            if source and _folder(target) and _folder(target) != source:
                folders[source].add(_folder(target))
    assert _cycle(folders) is None


def test_the_top_of_the_package_is_small_and_has_no_prefixed_families() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    prefixes = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        if "_" in path.stem.strip("_"):
            prefixes[(path.parent, path.stem.split("_")[0])].append(path.stem)
    assert not [names for names in prefixes.values() if len(names) > 2]
