"""A small cloud with Octavia load balancers, hand-built (the tests of topology_lb and its Icinga objects)."""

from __future__ import annotations

from icinga_helpers import HOSTILE, small_inventory, uid

from vio_checks.model import FixedIP, Inventory, Port, Server
from vio_checks.optional_records import LbMember, LoadBalancer, Pool

P = "vio-demo-RegionOne"
NET_A, EXT = uid("net", "a"), uid("net", "ext")  # small_inventory's: net-a has router-ha, ext none
SUBNET_A = uid("subnet", "a")
HV1 = f"{P}-hv-{uid('hv', 1)}"  # small_inventory's domain-c8 (web-01 runs there)


def member(name: str, address: str, server: str | None, hostile: bool = False) -> LbMember:
    """A member on SUBNET_A, joined to `server` (a vm uid name) or to nothing."""
    m = LbMember(uid("member", name), f"{name} {HOSTILE}" if hostile else name, address, 80, SUBNET_A,
                 "ACTIVE", "ONLINE")
    m.server_id = uid("vm", server) if server else None
    return m


def lb_inventory(hostile: bool = False, octavia: bool = True) -> Inventory:
    """small_inventory plus web-02 (on domain-c8 too) and app-01 (on domain-c9); load balancers:

    shop-lb   VIP on net-a (router-ha), members web-01, web-02 (domain-c8) and app-01 (domain-c9)
    edge-lb   VIP on the external network (no router), one member joined to no VM
    other-lb  project p-db, no members
    """
    inv = small_inventory(hostile=hostile)
    inv.meta.services = {"load-balancer": octavia}
    hv1, hv2 = inv.hypervisors
    for name, hv, ip in (("web-02", hv1, "192.168.1.11"), ("app-01", hv2, "192.168.1.12")):
        inv.servers.append(Server(uid("vm", name), name, "p-web", "ACTIVE", host=hv.service_host,
                                  hypervisor_hostname=hv.hostname))
        inv.ports.append(Port(uid("port", name), "", "p-web", NET_A, uid("vm", name), "compute:nova", "ACTIVE",
                              fixed_ips=[FixedIP(ip)]))
    shop = LoadBalancer(uid("lb", "shop"), f"shop-lb {HOSTILE}" if hostile else "shop-lb", "p-web",
                        "ACTIVE", "DEGRADED", vip_address="192.168.1.100", vip_subnet_id=SUBNET_A,
                        vip_network_id=NET_A, provider="vmwareedge",
                        pools=[Pool(uid("pool", "shop"), "web", "ACTIVE", "DEGRADED", True,
                                    [member("web-01", "192.168.1.10", "web-01", hostile),
                                     member("web-02", "192.168.1.11", "web-02", hostile),
                                     member("app-01", "192.168.1.12", "app-01", hostile)])])
    edge = LoadBalancer(uid("lb", "edge"), "edge-lb", "p-web", "ACTIVE", "ONLINE", vip_address="203.0.113.50",
                        vip_network_id=EXT,
                        pools=[Pool(uid("pool", "edge"), "", "ACTIVE", "ONLINE", False,
                                    [member("outside", "198.51.100.7", None)])])
    other = LoadBalancer(uid("lb", "other"), "other-lb", "p-db", "ACTIVE", "ONLINE", vip_network_id=None)
    inv.load_balancers = [shop, edge, other]
    return inv


def lb_key(name: str) -> str:
    return f"{P}-lb-{uid('lb', name)}"


def member_key(lb: str, name: str) -> str:
    return f"{lb_key(lb)}!member-{uid('member', name)}"
