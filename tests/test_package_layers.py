"""The modules of core import each other without a circle (docs/architecture.md: each imports only those below)."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The core modules a file imports anywhere in it (at the top or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in CORE.rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, modules) - {name} for name, path in files.items()}


def _a_circle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports (the modules in order, the first repeated at the end), or [] when none."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        trail.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target not in state and (circle := visit(target)):
                return circle
        state[module] = "done"
        trail.pop()
        return []

    for module in sorted(graph):
        if module not in state and (circle := visit(module)):
            return circle
    return []


def test_the_circle_finder_sees_a_circle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg.a import other\n")
    modules = {"pkg.a", "pkg.b"}
    graph = {"pkg.a": _imports(package / "a.py", modules), "pkg.b": _imports(package / "b.py", modules)}
    assert _a_circle(graph) == ["pkg.a", "pkg.b", "pkg.a"]


def test_no_core_module_imports_one_that_imports_it_back():
    graph = _import_graph()
    assert "core.models.checks" in graph["core.models.store"]  # the graph sees the imports at all
    assert _a_circle(graph) == []
