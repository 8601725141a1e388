"""The package's shape: no import cycle between product modules, no product module over 500 lines.

Imports are read with `ast`, at module level AND inside functions: a function-level import that hides a
cycle is still a cycle (the two modules cannot be understood, tested or moved apart).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vio_checks",)
MAX_LINES = 500

#: Modules allowed over MAX_LINES, with the reason (none today: keep it that way).
OVERSIZED: dict[str, str] = {}


def product_modules() -> dict[str, Path]:
    """Dotted module name → file, for every .py file of the product packages."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules `module` imports anywhere in its file (a package also for its submodules)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}

    def add(name: str) -> None:
        # importing a.b.c runs a/__init__ and a/b/__init__ first; our own packages ran before us anyway
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            implicit_ancestor = i < len(parts) and candidate in ancestors
            if candidate in modules and candidate != module and not implicit_ancestor:
                found.add(candidate)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            add(source)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    add(f"{source}.{alias.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            add(node.value)  # a module named in a string is imported by importlib (plugin lists)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    return {m: _imported(m, p, modules) for m, p in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        # recursive Tarjan; the graph is a few dozen modules deep at most
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    # cli.py imports its subcommand modules through importlib; generate imports check modules lazily
    assert "vio_checks.icinga.generate" in graph["vio_checks.icinga.cli"]
    assert "vio_checks.topology" in graph["vio_checks.icinga.objects"]


def test_find_cycles_reports_a_hidden_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_product_modules():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (module-level or function-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_no_product_module_over_500_lines():
    modules = product_modules()
    too_long = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules.items()}
    too_long = {m: n for m, n in too_long.items() if n > MAX_LINES and m not in OVERSIZED}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by job): {too_long}"


def test_oversized_exceptions_are_still_needed():
    modules = product_modules()
    stale = [m for m in OVERSIZED
             if m in modules and len(modules[m].read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
    assert not stale, f"no longer over {MAX_LINES} lines, drop them from OVERSIZED: {stale}"


#: Skips that are not for something missing (they go through tests/harness/needs.py), with the reason.
SKIPS_NOT_FOR_A_MISSING_PIECE = {"tests/test_discovery.py": "root can write anywhere: the test needs a user"}


def test_every_skip_for_a_missing_piece_goes_through_the_one_helper():
    """A missing binary, package or artefact fails under CI=true and is skipped elsewhere, by one rule
    (harness/needs.py): no plain skipif or pytest.skip beside it that would skip silently in CI too."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "tests/harness/needs.py" or rel == "tests/test_layout.py":
            continue
        text = path.read_text()
        if ("pytest.skip(" in text or "mark.skipif(" in text) and rel not in SKIPS_NOT_FOR_A_MISSING_PIECE:
            found.append(rel)
    assert not found, f"skips outside harness/needs.py: {found}"
