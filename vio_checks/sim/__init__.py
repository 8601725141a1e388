"""vio-sim: a loopback simulator of the OpenStack APIs a VIO (VMware Integrated OpenStack) cloud exposes.

Keystone v3, Nova v2.1 (VMwareVCDriver shape: one hypervisor per vSphere cluster), Neutron v2.0 and Cinder v3
(VMDK backend), enough for a monitoring sweep, served over real HTTP so the real openstacksdk works against
it unchanged. Tests and the demo drive it through an unauthenticated admin API under ``/_sim/``.

    from vio_checks.sim import Simulator
    with Simulator(scenario="demo") as sim:          # "healthy", a path, a dict, or generator.generate(...)
        conn = openstack.connect(**sim.credentials)
        sim.patch("servers", "web-01", status="ERROR")
        sim.fault(path="/servers/detail", status=503, count=1)

The scenario format is described in ``vio_checks.sim.state``; the admin API in ``server.ADMIN_HELP``.
Product code never imports this package.
"""

from .server import ADMIN_HELP, AdminError, Simulator
from .state import State, load_scenario

__all__ = ["ADMIN_HELP", "AdminError", "Simulator", "State", "load_scenario"]
