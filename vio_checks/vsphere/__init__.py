"""The optional vSphere layer: what vCenter knows below Nova's one-hypervisor-per-cluster view.

`connect` (credentials, login), `sweep` (one ContainerView + one PropertyCollector retrieval), `normalize`
(raw properties → `records`), `join` (hypervisor ↔ cluster, server ↔ VM ↔ ESXi host). Only `connect` and
`sweep` import pyVmomi, and only when called: everything else works without it, and `require()` gives the
one-line message a check prints when it is missing.
"""

from __future__ import annotations

import importlib.util

from vio_checks.errors import VioError

#: What a check that needs the layer says when pyVmomi is not installed.
MISSING_PYVMOMI = "the vSphere layer needs pyVmomi: pip install 'vio-checks[vsphere]'"


class VSphereError(VioError):
    """The vSphere layer is unavailable (pyVmomi missing, no credentials, vCenter failed): one line."""


def have_pyvmomi() -> bool:
    """pyVmomi is importable (without importing it)."""
    return importlib.util.find_spec("pyVmomi") is not None


def require() -> None:
    """Raise VSphereError with `MISSING_PYVMOMI` when pyVmomi is not installed."""
    if not have_pyvmomi():
        raise VSphereError(MISSING_PYVMOMI)
