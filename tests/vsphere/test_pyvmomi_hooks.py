"""The one private hook into pyVmomi (connect.soap_stub, used by tighten and the call counter) against the
installed release: what it relies on exists, and a release without it only loses the per-call tightening."""

from __future__ import annotations

import importlib.metadata

import pytest

from vio_checks.vsphere import connect

pytestmark = pytest.mark.usefixtures("pyvmomi_installed")


def _stub():
    from pyVmomi import SoapStubAdapter

    return SoapStubAdapter(host="127.0.0.1", port=9, connectionPoolTimeout=-1)  # made, never connected


def test_written_for_the_installed_pyvmomi():
    version = importlib.metadata.version("pyvmomi")
    assert version.startswith(connect.PYVMOMI_WRITTEN_FOR), (
        f"pyVmomi {version}: check soap_stub and tighten against it, then PYVMOMI_WRITTEN_FOR")
    stub = _stub()
    assert callable(stub.InvokeMethod) and callable(stub.DropConnections)
    assert isinstance(stub.schemeArgs, dict) and hasattr(stub, "pool")


def test_tighten_sets_the_timeout_of_new_and_pooled_connections():
    stub = _stub()
    connect.tighten(stub, 2.5)
    assert stub.schemeArgs["timeout"] == 2.5


def test_a_stub_without_the_private_attributes_is_left_as_it_is():
    """Another release without schemeArgs or pool: tighten does nothing (the session's deadline still bounds
    each socket from when it was opened, and the sweep's guard the whole)."""

    class Other:
        pass

    connect.tighten(Other(), 1.0)  # no error, nothing to tighten


def test_soap_stub_is_the_service_instances_stub():
    class SI:
        _stub = object()

    assert connect.soap_stub(SI()) is SI._stub
