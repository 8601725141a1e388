"""Inventories built in-process from the model dataclasses (no simulator), and validators that run the real
icinga2 / nagios4 binaries on a throw-away tree. Shared by test_topology, test_generate and test_deploy."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from vio_checks.model import (
    Address,
    Agent,
    Attachment,
    FixedIP,
    Hypervisor,
    Inventory,
    Meta,
    Network,
    Port,
    Project,
    Router,
    Server,
    Service,
    Volume,
)

REPO = Path(__file__).resolve().parent.parent
ICINGA_DIR = REPO / "icinga"

HOSTILE = 'he said "hi" \\ back\nslash\t$host.name$ $$ !bang {x} }{ ; ${USER1} `id` $(id) é中文\u202e\x01 '


def uid(*parts: object) -> str:
    """A stable UUID from parts (deterministic inventories)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, "/".join(map(str, parts))))


def small_inventory(hostile: bool = False, cloud: str = "demo", region: str | None = "RegionOne") -> Inventory:
    """Two clusters (one with Nova's integer id), HA and single-agent routers, filtered VMs, volumes."""
    h = (lambda s: f"{s} {HOSTILE}") if hostile else (lambda s: s)
    inv = Inventory(meta=Meta(cloud=cloud, region=region, fetched_at=1_700_000_000.0, seconds=1.0, requests=10))
    inv.projects = [Project("p-web", h("web")), Project("p-db", h("db")), Project("p-lab", "lab")]
    inv.hypervisors = [
        Hypervisor(uid("hv", 1), "domain-c8.5f2e", "VMware vCenter Server", "up", "enabled", "vio-compute-01",
                   host_ip="10.0.0.11", vcpus=64, memory_mb=262144),
        Hypervisor("2", "domain-c9(Cluster-B)", "VMware vCenter Server", "up", "enabled", "vio-compute-02",
                   host_ip="10.0.0.12"),
    ]
    inv.compute_services = [
        Service("cs1", "nova", "nova-compute", "vio-compute-01", status="enabled", state="up"),
        Service("cs2", "nova", "nova-compute", "vio-compute-02", status="enabled", state="up"),
        Service("cs3", "nova", "nova-scheduler", "vio-controller-01", status="enabled", state="up"),
    ]
    inv.volume_services = [
        Service("vs1", "cinder", "cinder-volume", "vio-controller@vmdk", status="enabled", state="up"),
        Service("vs2", "cinder", "cinder-scheduler", "vio-controller", status="enabled", state="up"),
    ]
    inv.agents = [
        Agent(uid("agent", "l3", 1), "neutron-l3-agent", "L3 agent", "vio-net-01", alive=True),
        Agent(uid("agent", "l3", 2), "neutron-l3-agent", "L3 agent", "vio-net-02", alive=True),
        Agent(uid("agent", "dhcp", 1), "neutron-dhcp-agent", "DHCP agent", "vio-net-01", alive=True),
    ]
    net_a, net_b, ext = uid("net", "a"), uid("net", "b"), uid("net", "ext")
    inv.networks = [Network(net_a, h("net-a"), "p-web"), Network(net_b, h("net-b"), "p-db"),
                    Network(ext, "public", "admin", external=True)]
    r_ha, r_one = uid("router", "ha"), uid("router", "one")
    inv.routers = [
        Router(r_ha, h("router-ha"), "p-web", "ACTIVE", ha=True, external_network_id=ext,
               agent_ids=[inv.agents[0].id, inv.agents[1].id], network_ids=[net_a]),
        Router(r_one, h("router-one"), "p-db", "ACTIVE", ha=False, agent_ids=[inv.agents[1].id]),
    ]
    vm1, vm2, vm_off, vm_lab, vm_err = (uid("vm", n) for n in ("web-01", "db-01", "off", "lab", "err"))
    inv.servers = [
        Server(vm1, h("web-01"), "p-web", "ACTIVE", host="vio-compute-01", hypervisor_hostname="domain-c8.5f2e",
               flavor=h("m1.small"), addresses=[Address(h("net-a"), "192.168.1.10"),
                                                 Address(h("net-a"), "203.0.113.10", kind="floating")],
               metadata={"role": h("web"), h("key"): "v"}),
        Server(vm2, "db-01", "p-db", "ACTIVE", host="vio-compute-02", hypervisor_hostname="domain-c9(Cluster-B)",
               flavor="m1.large", addresses=[Address("net-b", "192.168.2.10")]),
        Server(vm_off, "scratch", "p-web", "ACTIVE", host="vio-compute-01", hypervisor_hostname="domain-c8.5f2e",
               metadata={"monitoring": "off"}),
        Server(vm_lab, "lab-01", "p-lab", "ACTIVE", host="vio-compute-02", hypervisor_hostname="domain-c9(Cluster-B)"),
        Server(vm_err, h("broken"), "p-web", "ERROR"),
    ]
    inv.ports = [
        Port(uid("port", "web-01"), h("eth0"), "p-web", net_a, vm1, "compute:nova", "ACTIVE",
             mac_address="fa:16:3e:00:00:01", fixed_ips=[FixedIP("192.168.1.10")]),
        Port(uid("port", "db-01"), "", "p-db", net_b, vm2, "compute:nova", "ACTIVE",
             fixed_ips=[FixedIP("192.168.2.10")]),
        Port(uid("port", "off"), "", "p-web", net_a, vm_off, "compute:nova", "ACTIVE"),
        Port(uid("port", "lab"), "", "p-lab", ext, vm_lab, "compute:nova", "ACTIVE"),
        Port(uid("port", "r-ha-a"), "", "p-web", net_a, r_ha, "network:ha_router_replicated_interface", "ACTIVE"),
        Port(uid("port", "r-one-b"), "", "p-db", net_b, r_one, "network:router_interface", "ACTIVE"),
        Port(uid("port", "r-ha-gw"), "", "", ext, r_ha, "network:router_gateway", "ACTIVE",
             fixed_ips=[FixedIP("203.0.113.1")]),
    ]
    inv.volumes = [
        Volume(uid("vol", "web-01-data"), h("web-data"), "p-web", "in-use", 10,
               "vio-controller@vmdk#vmdk", attachments=[Attachment(vm1, "/dev/sdb")]),
        Volume(uid("vol", "spare"), h("spare"), "p-db", "available", 5, "vio-controller@vmdk#vmdk"),
        Volume(uid("vol", "off"), "off-data", "p-web", "in-use", 5, "vio-controller@vmdk#vmdk",
               attachments=[Attachment(vm_off, "/dev/sdb")]),
        Volume(uid("vol", "nobackend"), "", "p-db", "error", 1, None),
    ]
    return inv


def big_inventory(n_vms: int = 10_000, hypervisors: int = 20, routers: int = 100, projects: int = 50,
                  unattached: int = 500) -> Inventory:
    """A cloud of n_vms VMs: one port each (every third VM two), one volume each, HA every tenth router."""
    inv = Inventory(meta=Meta(cloud="big", region="RegionOne", fetched_at=1_700_000_000.0, seconds=30.0,
                              requests=200))
    inv.projects = [Project(uid("project", i), f"project-{i}") for i in range(projects)]
    for i in range(hypervisors):
        inv.hypervisors.append(Hypervisor(uid("hv", i), f"domain-c{i}.{uid('vc', i)}", "VMware vCenter Server",
                                          "up", "enabled", f"vio-compute-{i:02d}", host_ip=f"10.0.1.{i + 1}"))
        inv.compute_services.append(Service(uid("cs", i), "nova", "nova-compute", f"vio-compute-{i:02d}",
                                            status="enabled", state="up"))
    inv.volume_services = [Service(f"vs{b}", "cinder", "cinder-volume", f"vio-controller@vmdk{b}", status="enabled",
                                   state="up") for b in range(2)]
    inv.agents = [Agent(uid("l3", i), "neutron-l3-agent", "L3 agent", f"vio-net-{i:02d}", alive=True)
                  for i in range(4)]
    nets = [uid("net", i) for i in range(routers * 2)]
    inv.networks = [Network(n, f"net-{i}", inv.projects[i % projects].id) for i, n in enumerate(nets)]
    for i in range(routers):
        agents = [inv.agents[i % 4].id] + ([inv.agents[(i + 1) % 4].id] if i % 10 == 0 else [])
        inv.routers.append(Router(uid("router", i), f"router-{i}", inv.projects[i % projects].id, "ACTIVE",
                                  ha=i % 10 == 0, agent_ids=agents, network_ids=[nets[2 * i]]))
        inv.ports.append(Port(uid("rport", i), "", "", nets[2 * i + 1], uid("router", i),
                              "network:router_interface", "ACTIVE"))
    for i in range(n_vms):
        sid = uid("vm", i)
        hv = inv.hypervisors[i % hypervisors]
        project = inv.projects[i % projects].id
        net = i % len(nets)
        inv.servers.append(Server(sid, f"vm-{i:05d}", project, "ACTIVE", host=hv.service_host,
                                  hypervisor_hostname=hv.hostname, flavor="m1.small",
                                  addresses=[Address(f"net-{net}", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")]))
        for k in range(2 if i % 3 == 0 else 1):
            inv.ports.append(Port(uid("port", i, k), "", project, nets[(net + k) % len(nets)], sid,
                                  "compute:nova", "ACTIVE", fixed_ips=[FixedIP(f"10.0.0.{k}")]))
        inv.volumes.append(Volume(uid("vol", i), f"vol-{i}", project, "in-use", 10,
                                  f"vio-controller@vmdk{i % 2}#vmdk", attachments=[Attachment(sid, "/dev/sdb")]))
    for i in range(unattached):
        inv.volumes.append(Volume(uid("spare", i), f"spare-{i}", inv.projects[i % projects].id, "available", 1,
                                  f"vio-controller@vmdk{i % 2}#vmdk"))
    return inv


# --- cache and validation ---------------------------------------------------------------------------


def store_inventory(cache_dir: Path, inv: Inventory) -> None:
    """Put an inventory in the cache as a fresh sweep (what vio-discover would have written)."""
    from vio_checks.cache import Store, namespace

    inv.meta.fetched_at = time.time()
    store = Store(cache_dir / namespace(inv.meta.cloud, inv.meta.region))
    try:
        store.store(inv)
    finally:
        store.close()


def icinga_objects(debug_file: Path) -> dict[tuple[str, str], dict]:
    """(type, name) → properties, from the icinga2.debug objects file `icinga2 daemon -C` writes."""
    import json

    data = debug_file.read_bytes()
    objects, pos = {}, 0
    while pos < len(data):
        colon = data.index(b":", pos)
        length = int(data[pos:colon])
        record = json.loads(data[colon + 1:colon + 1 + length])
        objects[(record["type"], record["name"])] = record["properties"]
        pos = colon + 1 + length + 1  # the trailing comma
    return objects
