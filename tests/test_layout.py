"""The tree's shape: no import cycle between the modules of the product, the simulator (vio-sim/) or the
benchmark (bench/), none of their modules over 500 lines, no test file over 600; tests and bench import
what they share as packages (no sys.path edits, no pythonpath setting); the simulator's state store
imports none of the HTTP service modules it serves.

Imports are read with `ast`, at module level AND inside functions: a function-level import that hides a
cycle is still a cycle (the two modules cannot be understood, tested or moved apart).
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vio_checks",)
MAX_LINES = 500
#: The packages held to the product's rules besides it: the directory each is imported from.
OTHER_PACKAGES = {"vio_sim": ROOT / "vio-sim", "bench": ROOT}
#: Whether a package's `if TYPE_CHECKING:` imports count as imports. The simulator's service modules
#: annotate their handlers with the App that serves them and the State they read, which import them.
ANNOTATIONS_COUNT = {"vio_sim": False, "bench": True}
MAX_TEST_LINES = 600

#: Modules allowed over MAX_LINES, with the reason (none today: keep it that way).
OVERSIZED: dict[str, str] = {}
#: Test files allowed over MAX_TEST_LINES, with the reason.
OVERSIZED_TESTS: dict[str, str] = {}


def package_modules(package: str, base: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every .py file of `package`, which is imported from `base`."""
    out: dict[str, Path] = {}
    for path in sorted((base / package).rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def product_modules() -> dict[str, Path]:
    """Dotted module name → file, for every .py file of the product packages."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        out.update(package_modules(package))
    return out


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imported(module: str, path: Path, modules: dict[str, Path], annotations: bool = True) -> set[str]:
    """The modules of `modules` that `module` imports anywhere in its file (a package also for its
    submodules); with annotations=False, not those imported under `if TYPE_CHECKING:` only."""
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

    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = set() if annotations else {
        id(n) for block in ast.walk(tree) if _is_type_checking_block(block) for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # `if TYPE_CHECKING:` imports never run: annotations only
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
            if not (source in ancestors and all(f"{source}.{a.name}" in modules for a in node.names)):
                add(source)  # `from . import sub`: the package itself ran before us
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    add(f"{source}.{alias.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            add(node.value)  # a module named in a string is imported by importlib (plugin lists)
    return found


def import_graph(modules: dict[str, Path] | None = None, annotations: bool = True) -> dict[str, set[str]]:
    """Module → the modules (of the same set: the product's by default) it imports anywhere in its file."""
    modules = product_modules() if modules is None else modules
    return {m: _imported(m, p, modules, annotations) for m, p in modules.items()}


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


# --- the simulator and the benchmark: the product's rules ------------------------------------------------


@pytest.mark.parametrize("package", sorted(OTHER_PACKAGES))
def test_no_import_cycle_in_the_simulator_or_the_benchmark(package):
    modules = package_modules(package, OTHER_PACKAGES[package])
    assert modules, f"no modules found for {package}"
    cycles = find_cycles(import_graph(modules, ANNOTATIONS_COUNT[package]))
    assert not cycles, "import cycles (module-level or function-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("package", sorted(OTHER_PACKAGES))
def test_no_simulator_or_benchmark_module_over_500_lines(package):
    modules = package_modules(package, OTHER_PACKAGES[package])
    too_long = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules.items()}
    too_long = {m: n for m, n in too_long.items() if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by job): {too_long}"


#: The modules that serve HTTP in the simulator: the state store must not reach them.
SIM_HTTP = ("vio_sim.http", "vio_sim.app")


def reaches(graph: dict[str, set[str]], start: str) -> dict[str, list[str]]:
    """Every module `start` imports, directly or through others → one import chain from `start` to it."""
    chains = {start: [start]}
    todo = [start]
    while todo:
        m = todo.pop()
        for n in sorted(graph.get(m, ())):
            if n not in chains:
                chains[n] = [*chains[m], n]
                todo.append(n)
    return chains


def test_reaches_names_the_chain():
    chains = reaches({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a"}}, "a")
    assert chains["c"] == ["a", "b", "c"] and "d" not in chains


def test_the_simulators_state_store_imports_no_http_service_module():
    """vio_sim.store keeps the objects and ingests scenarios; the service modules that serve them over HTTP
    (anything that imports http.py or app.py) import the store, never the other way round: each service's
    kinds are declared in a module of its state (e.g. glance_heat_state.py beside glance_heat.py)."""
    graph = import_graph(package_modules("vio_sim", OTHER_PACKAGES["vio_sim"]), ANNOTATIONS_COUNT["vio_sim"])
    serving = {m for m, deps in graph.items() if m in SIM_HTTP or deps & set(SIM_HTTP)}
    chains = reaches(graph, "vio_sim.store")
    bad = {m: " -> ".join(chains[m]) for m in sorted(serving & set(chains))}
    assert not bad, f"vio_sim.store reaches HTTP service modules: {bad}"


# --- tests: size, and shared code imported as packages ---------------------------------------------------


def test_no_test_file_over_600_lines():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in sorted((ROOT / "tests").rglob("*.py"))}
    too_long = {f: n for f, n in sizes.items() if n > MAX_TEST_LINES and f not in OVERSIZED_TESTS}
    assert not too_long, f"test files over {MAX_TEST_LINES} lines (split them by subject or job): {too_long}"
    stale = [f for f in OVERSIZED_TESTS if sizes.get(f, 0) <= MAX_TEST_LINES]
    assert not stale, f"no longer over {MAX_TEST_LINES} lines, drop them from OVERSIZED_TESTS: {stale}"


def _is_sys_path(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name)
            and node.value.id == "sys")


def sys_path_edits(source: str) -> list[int]:
    """Lines that change sys.path: a method call on it (insert, append, extend, remove ...) or an assignment
    to it or to an item of it. Reading it is fine."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_sys_path(node.func.value):
            if node.func.attr not in ("index", "count", "copy"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _is_sys_path(target) or (isinstance(target, ast.Subscript) and _is_sys_path(target.value)):
                    lines.append(node.lineno)
    return sorted(lines)


def test_sys_path_edits_are_found():
    assert sys_path_edits("import sys\nsys.path.insert(0, 'x')\nsys.path.append('y')\n") == [2, 3]
    assert sys_path_edits("import sys\nsys.path[:0] = ['x']\nsys.path += ['y']\nsys.path = []\n") == [2, 3, 4]
    assert sys_path_edits("import sys\nfound = [p for p in sys.path if p]\nn = sys.path.index('x')\n") == []


def test_no_sys_path_edits_in_tests_or_bench():
    """tests/ and bench/ import what they share as packages (tests/harness, bench), never by editing sys.path."""
    found = {}
    for directory in ("tests", "bench"):
        for path in sorted((ROOT / directory).rglob("*.py")):
            lines = sys_path_edits(path.read_text(encoding="utf-8"))
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    assert not found, f"sys.path edits (file: lines): {found}"


def test_no_pythonpath_setting_stands_in_for_a_package():
    """Neither pytest's `pythonpath` setting nor a PYTHONPATH in the Makefile or CI: what tests and bench
    import is a package (or installed)."""
    found = []
    for name, section in (("setup.cfg", "tool:pytest"), ("pytest.ini", "pytest"), ("tox.ini", "pytest")):
        path = ROOT / name
        if path.exists():
            cfg = configparser.ConfigParser(interpolation=None)
            cfg.read(path, encoding="utf-8")
            if cfg.has_option(section, "pythonpath"):
                found.append(f"{name} [{section}] pythonpath")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if "pythonpath" in pyproject.get("tool", {}).get("pytest", {}).get("ini_options", {}):
        found.append("pyproject.toml [tool.pytest.ini_options] pythonpath")
    for name in ("Makefile", ".ci/run"):
        path = ROOT / name
        if path.exists():
            found += [f"{name}: {line.strip()}" for line in path.read_text(encoding="utf-8").splitlines()
                      if re.search(r"\bPYTHONPATH=", line)]
    assert not found, f"pythonpath settings standing in for a package: {found}"
