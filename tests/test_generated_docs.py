"""The generated reference (`make docs`, tools/gendocs.py) is what the code generates: docs/checks.md (and its
entries in docs/README.md) is current, has one section per check of vio_checks.checks.CHECKS, and goes stale
when a check's --help changes; the generator needs nothing from a check beyond its CheckSpec."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vio_checks.checks import CHECKS, spec_of
from vio_checks.checks.base import CheckSpec
from vio_checks.icinga import option_var

ROOT = Path(__file__).resolve().parent.parent
GENDOCS = ROOT / "tools" / "gendocs.py"


def _load_gendocs():
    """tools/gendocs.py as a module (a developer's tool, not a package: loaded by path, sys.path untouched)."""
    spec = importlib.util.spec_from_file_location("gendocs", GENDOCS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gendocs = _load_gendocs()


def test_the_committed_reference_is_what_the_code_generates():
    diffs = gendocs.stale()
    assert diffs == [], "docs are stale: run `make docs` and commit the result\n" + "".join(diffs)[:4000]


def test_make_docs_leaves_a_current_tree_unchanged():
    """`tools/gendocs.py --check` (what `make docs` runs, writing nothing) exits 0 on the committed tree."""
    r = subprocess.run([sys.executable, str(GENDOCS), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert (r.returncode, r.stdout) == (0, ""), r.stdout[:2000] + r.stderr[-2000:]


def test_one_section_per_check_in_the_registrys_order():
    text = (ROOT / "docs" / "checks.md").read_text()
    sections = re.findall(r"^## (check_vio_\w+)$", text, re.M)
    assert sections == [f"check_vio_{name}" for name in CHECKS]


@pytest.mark.parametrize("change", ["epilog", "option help", "description"])
def test_a_changed_help_makes_the_docs_stale(monkeypatch, change):
    spec = spec_of("vm")
    if change == "epilog":
        monkeypatch.setattr(spec, "epilog", spec.epilog.replace("states:", "states (changed):", 1))
    elif change == "description":
        monkeypatch.setattr(spec, "description", spec.description + " Changed.")
    else:
        option = spec.options[-1]
        monkeypatch.setattr(spec, "options", (*spec.options[:-1], option.replace(help=option.help + " changed")))
    assert [d for d in gendocs.stale() if "docs/checks.md" in d]


def test_every_option_of_every_check_is_documented_with_its_custom_var():
    """Each check's --help lists no option the page leaves out; the custom var is the CheckCommand's."""
    text = (ROOT / "docs" / "checks.md").read_text()
    for name in CHECKS:
        section = text.split(f"\n## check_vio_{name}\n", 1)[1].split("\n## check_vio_", 1)[0]
        for option in spec_of(name).options:
            assert f"`{option.flags[-1]}" in section, (name, option.flags)
            if option.exposed:
                assert f"`{option_var(f'vio_{name}', option)}`" in section, (name, option.flags)


def test_a_check_with_no_doc_prose_still_gets_its_section():
    """A new check needs nothing for `make docs` beyond what any check declares (description, options, epilog)."""
    bare = CheckSpec(name="example", description="Check an example.", evaluate=lambda *a: None,
                     epilog="states:\n  OK  always\n\nexample:\n  check_vio_example\n  VIO EXAMPLE OK - fine\n")
    gendocs.COMMAND_OF.setdefault("example", "vio_example")
    try:
        section = gendocs.check_section("example", bare)
    finally:
        gendocs.COMMAND_OF.pop("example")
    assert section.startswith("## check_vio_example\n\nCheck an example.\n")
    assert "VIO EXAMPLE OK - fine" in section and "CheckCommand `vio_example`" in section


def test_the_module_layers_cover_every_module_and_follow_the_imports():
    """docs/development.md's layers (drawn by `make docs`): every product module once, each above all it imports."""
    imports = gendocs.product_imports()
    layers = gendocs.module_layers(imports)
    where = {m: n for n, mods in enumerate(layers) for m in mods}
    modules = {".".join(p.relative_to(ROOT / "vio_checks").with_suffix("").parts).removesuffix(".__init__")
               .removesuffix("__init__") or "vio_checks" for p in (ROOT / "vio_checks").rglob("*.py")}
    assert set(where) == modules and sum(map(len, layers)) == len(modules)
    assert "options" in imports["checks.base"] and where["checks.base"] > where["options"]
    for module, imported in imports.items():
        assert all(where[module] > where[m] for m in imported if m != "vio_checks"), module
