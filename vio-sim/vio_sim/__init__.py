"""vio-sim: a loopback simulator of the OpenStack APIs a VIO (VMware Integrated OpenStack) cloud exposes.

Keystone v3, Nova v2.1 (VMwareVCDriver shape: one hypervisor per vSphere cluster), Neutron v2.0 and Cinder v3
(VMDK backend), enough for a monitoring sweep, served over real HTTP so the real openstacksdk works against
it unchanged. Tests and the demo drive it through an unauthenticated admin API under ``/_sim/``.

    from vio_sim import Simulator
    with Simulator(scenario="demo") as sim:          # "healthy", a path, a dict, or generator.generate(...)
        conn = openstack.connect(**sim.credentials)
        sim.patch("servers", "web-01", status="ERROR")
        sim.fault(path="/servers/detail", status=503, count=1)

Layout: ``store`` keeps the objects (the scenario format is described there); ``keystone``, ``nova``,
``neutron`` and ``cinder`` each hold their service's state rules and HTTP API; ``http`` is the shared
plumbing, ``app`` routes requests, ``admin`` is the admin API (``ADMIN_HELP``), ``faults`` the fault
injection, ``generator`` builds large scenarios, ``cli`` is the ``vio-sim`` command.
vio-checks never imports this package: it is a separate distribution, for tests and demos only.
"""

from .admin import ADMIN_HELP
from .simulator import AdminError, Simulator
from .store import State, load_scenario

__all__ = ["ADMIN_HELP", "AdminError", "Simulator", "State", "load_scenario"]
