"""The product's wheel carries no simulator, and product code never imports it.

The simulator (vio-sim/, package vio_sim) serves an unauthenticated admin API: it must not reach a
monitoring host with `pip install vio-checks`.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ROOT / "vio_checks"
SIM_MODULES = ("vio_sim", "vio_checks.sim")
# Build from a clean copy: a stale build/ directory in the worktree would leak old modules into the wheel.
_NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".ruff_cache", "demo-run")


def _wheel(src: Path, tmp: Path) -> zipfile.ZipFile:
    out = tmp / "dist"
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return zipfile.ZipFile(wheels[0])


def _dist_info(whl: zipfile.ZipFile, name: str) -> str:
    member = next(n for n in whl.namelist() if n.endswith(".dist-info/" + name))
    return whl.read(member).decode()


def test_product_wheel_has_no_simulator(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)
    with _wheel(src, tmp_path) as whl:
        names = whl.namelist()
        assert any(n.startswith("vio_checks/checks/") for n in names), names  # it is the product's wheel
        sim = [n for n in names if n.startswith(("vio_sim/", "vio_checks/sim/")) or "/scenarios/" in n]
        assert sim == []
        entry_points = _dist_info(whl, "entry_points.txt")
        assert "check_vio_vm" in entry_points and "vio-sim" not in entry_points and "vio_sim" not in entry_points
        top_level = _dist_info(whl, "top_level.txt").split()
        assert top_level == ["vio_checks"]
        requires = [ln for ln in _dist_info(whl, "METADATA").splitlines() if ln.startswith("Requires-Dist:")]
        sim_reqs = [ln for ln in requires if "vio-sim" in ln or "vio_sim" in ln]
        assert sim_reqs and all('extra == "test"' in ln for ln in sim_reqs), requires


def test_simulator_wheel_is_complete(tmp_path):
    with _wheel(ROOT / "vio-sim", tmp_path) as whl:
        names = whl.namelist()
        assert {"vio_sim/__init__.py", "vio_sim/scenarios/demo.json", "vio_sim/scenarios/healthy.json",
                "vio_sim/nova/servers.py", "vio_sim/neutron/ports.py"} <= set(names)
        assert "vio-sim = vio_sim.cli:main" in _dist_info(whl, "entry_points.txt")
        assert not [n for n in names if n.startswith("vio_checks/")]


def _package(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1]).removesuffix(".__init__")


def _imported(source: str, package: str) -> list[str]:
    """Absolute names of the modules (and names) a source file imports, relative imports resolved."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parents = parts[: len(parts) - node.level + 1]
                base = ".".join(parents + ([node.module] if node.module else []))
            out.append(base)
            out += [f"{base}.{a.name}" for a in node.names]
    return out


def test_product_code_never_imports_the_simulator():
    files = sorted(PRODUCT.rglob("*.py"))
    assert len(files) > 10
    bad = {str(f.relative_to(ROOT)): name for f in files for name in _imported(f.read_text(), _package(f))
           if any(name == m or name.startswith(m + ".") for m in SIM_MODULES)}
    assert bad == {}
    assert not (PRODUCT / "sim").exists()


def test_import_scan_sees_relative_imports():
    """The scan resolves `from .. import sim` inside vio_checks, so it cannot miss one."""
    assert _package(PRODUCT / "checks" / "vm.py") == _package(PRODUCT / "checks" / "__init__.py")
    assert _package(PRODUCT / "checks" / "vm.py") == "vio_checks.checks"
    names = _imported("from .. import sim\nfrom ..sim import Simulator\nimport vio_sim.store\n", "vio_checks.checks")
    assert {"vio_checks.sim", "vio_checks.sim.Simulator", "vio_sim.store"} <= set(names)
