"""The optional vSphere layer: what vCenter knows below Nova's one-hypervisor-per-cluster view.

`connect` (credentials, login), `sweep` (one ContainerView + one PropertyCollector retrieval), `normalize`
(raw properties → `records`), `join` (hypervisor ↔ cluster, server ↔ VM ↔ ESXi host). Only `connect` and
`sweep` import pyVmomi, and only when called: everything else works without it, and `require()` gives the
one-line message a check prints when it is missing.
"""

from __future__ import annotations

from vio_checks.errors import VioError

#: What a check that needs the layer says when pyVmomi is not installed.
MISSING_PYVMOMI = "pyVmomi is not installed: pip install 'vio-checks[vsphere]'"
#: What a check of the layer says when the sweep was not asked to read a vCenter.
NOT_CONFIGURED = ("vSphere layer not configured (--vcenter-credentials FILE, or a vsphere: mapping in the "
                  "cloud's clouds.yaml entry)")
#: How a vCenter failure is stored and told (the OpenStack part of the sweep stands).
UNAVAILABLE = "vSphere layer unavailable"


class VSphereError(VioError):
    """The vSphere layer is unavailable (pyVmomi missing, no credentials, vCenter failed): one line."""


def have_pyvmomi() -> bool:
    """pyVmomi is importable (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("pyVmomi") is not None


def require() -> None:
    """Raise VSphereError with `MISSING_PYVMOMI` when pyVmomi is not installed."""
    if not have_pyvmomi():
        raise VSphereError(MISSING_PYVMOMI)
