"""A large, consistent VIO cloud for load tests: ``generate(vms=10000, clusters=40, ...) -> scenario dict``.

Deterministic from ``seed`` (ids, names, placement, the few faults sprinkled in); times are relative
(``"-3h"``) so they are resolved when the scenario is loaded. The result is a plain scenario dict (see
``vio_sim.store``): pass it to ``Simulator(scenario=...)`` or ``json.dump`` it to a file.

Shape: one vCenter per 20 clusters, one hypervisor (nova-compute host ``vio-compute-NN``) per cluster, three
HA controllers, one external network, a network per project (and one per extra router), a router per network
up to ``routers`` with a gateway and an interface port, a DHCP port per network, one port per VM, then extra
VM ports until ``ports`` is reached. Faults (about 1 %): ERROR and SHUTOFF VMs, DOWN ports, error volumes.
Optional, asked for by count: Glance images, Heat stacks (``images_and_stacks``) and Octavia load balancers
with 4 members on VM ports each (``generator_lb``); ``scaled`` sets all three from the VM count.
"""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from collections.abc import Sequence
from typing import Any

from . import generator_lb

FLAVORS = [
    {"name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
    {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
    {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40},
    {"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
    {"name": "m1.xlarge", "vcpus": 8, "ram": 16384, "disk": 160},
]

#: (status, weight) of generated VMs.
STATUS_MIX = [("ACTIVE", 950), ("SHUTOFF", 35), ("ERROR", 5), ("SUSPENDED", 3), ("SHELVED_OFFLOADED", 5),
              ("PAUSED", 2)]


def generate(
    vms: int = 10000,
    clusters: int = 40,
    volumes: int = 8000,
    ports: int = 20000,
    routers: int = 200,
    projects: int = 50,
    seed: int = 1,
    backend: str = "ml2",
    faults: bool = True,
    regions: Sequence[str] | None = None,
    images: int = 0,
    stacks: int = 0,
    load_balancers: int = 0,
) -> dict:
    """A scenario dict for a cloud of the given size.

    ``images``/``stacks``: Glance images and Heat stacks (none by default: then the catalog lists neither
    service, as before they existed); with ``faults`` one image is killed, one stuck queued and one stack
    CREATE_FAILED.

    ``load_balancers``: Octavia load balancers of 4 members each on VM ports (``generator_lb``; none by
    default: then the catalog lists no Octavia); with ``faults`` one is ERROR and one DEGRADED.

    ``regions`` (two or more names): a multi-region cloud (see ``vio_sim.regions``): the first region is
    the one-region cloud of the same arguments, every other one a cloud of the same size with its own ids
    and vCenter (seeded by ``seed`` and its name) sharing the first one's projects.
    """
    sizes = dict(vms=vms, clusters=clusters, volumes=volumes, ports=ports, routers=routers, projects=projects,
                 backend=backend, faults=faults)
    out = _generate(seed=seed, **sizes)
    out.update(images_and_stacks(images, stacks, out["projects"], seed, faults))
    if load_balancers:
        out["loadbalancers"] = generator_lb.load_balancers(load_balancers, out, seed, faults)
    if not regions or len(regions) < 2:
        return out
    out["settings"]["region"] = regions[0]
    out["regions"] = {}
    for name in regions[1:]:
        other = _generate(seed=f"{seed}/{name}", **sizes)
        text = json.dumps({k: v for k, v in other.items() if k not in ("users", "projects", "description")})
        for theirs, ours in zip(other["projects"], out["projects"], strict=True):  # uuids: replace is exact
            text = text.replace(theirs["id"], ours["id"])
        out["regions"][name] = json.loads(text)
    return out


def _generate(
    vms: int, clusters: int, volumes: int, ports: int, routers: int, projects: int, seed: int | str,
    backend: str, faults: bool,
) -> dict:
    """One region's cloud (see ``generate``)."""
    rng = random.Random(seed)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    clusters = max(1, clusters)
    projects = max(1, projects)
    out: dict[str, Any] = {
        "description": f"generated: {vms} VMs, {clusters} clusters, {volumes} volumes, {ports} ports, "
        f"{routers} routers, {projects} projects (seed {seed})",
        "settings": {"neutron_backend": backend, "network_host": "vio-network-01"},
        "users": [{"name": "admin", "password": "vio-sim", "project": "admin"}],
    }
    plist = [{"id": uid(), "name": "admin", "description": "admin project"}]
    plist += [{"id": uid(), "name": f"project-{i:03d}"} for i in range(1, projects)]
    out["projects"] = plist
    tenant_projects = plist[1:] or plist
    out["flavors"] = [dict(f, id=uid()) for f in FLAVORS]
    flavor_names = [f["name"] for f in FLAVORS]

    controllers = [f"vio-controller-{i:02d}" for i in (1, 2, 3)]
    csvcs = []
    for host in controllers:
        for binary in ("nova-scheduler", "nova-conductor", "nova-consoleauth"):
            csvcs.append({"id": uid(), "binary": binary, "host": host})
    hvs = []
    for i in range(clusters):
        vc = uuid.UUID(int=random.Random(f"{seed}/vc/{i // 20}").getrandbits(128), version=4)
        host = f"vio-compute-{i + 1:02d}"
        csvcs.append({"id": uid(), "binary": "nova-compute", "host": host})
        hvs.append(
            {
                "id": uid(),
                "hypervisor_hostname": f"domain-c{8 + 2 * i}.{vc}",
                "host": host,
                "host_ip": f"10.0.{i // 20}.10",
                "vcpus": 512,
                "memory_mb": 2097152,
                "local_gb": 65536,
            }
        )
    out["compute_services"] = csvcs
    out["hypervisors"] = hvs
    out["volume_services"] = [{"binary": "cinder-scheduler", "host": h} for h in controllers] + [
        {"binary": "cinder-volume", "host": "vio-controller-01@vmdk"},
        {"binary": "cinder-backup", "host": "vio-controller-01"},
    ]

    # networks: external + one per project + extra ones so every router has its own
    nets: list[dict] = []
    subnets: list[dict] = []
    ext_id, ext_sub = uid(), uid()
    nets.append(
        {
            "id": ext_id,
            "name": "ext-net",
            "router:external": True,
            "shared": True,
            "project_id": plist[0]["id"],
        }
    )
    subnets.append({"id": ext_sub, "name": "ext-subnet", "network_id": ext_id, "cidr": "100.64.0.0/16"})
    ext_hosts = ipaddress.ip_network("100.64.0.0/16").network_address
    ext_next = [10]
    tenant_nets = []
    blocks = ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=18)
    for i in range(max(len(tenant_projects), routers)):
        p = tenant_projects[i % len(tenant_projects)]
        block = next(blocks)
        net = {"id": uid(), "name": f"{p['name']}-net-{i // len(tenant_projects)}", "project_id": p["id"]}
        sub = {"id": uid(), "name": f"{net['name']}-subnet", "network_id": net["id"], "cidr": str(block)}
        nets.append(net)
        subnets.append(sub)
        tenant_nets.append((net, sub, block, [10]))
    nets_by_project: dict[str, list] = {}
    for t in tenant_nets:
        nets_by_project.setdefault(t[0]["project_id"], []).append(t)
    out["networks"] = nets
    out["subnets"] = subnets

    def next_ip(t: tuple) -> dict:
        _net, sub, block, counter = t
        ip = block.network_address + counter[0]
        counter[0] += 1
        return {"subnet_id": sub["id"], "ip_address": str(ip)}

    def ext_ip() -> dict:
        ip = ext_hosts + ext_next[0]
        ext_next[0] += 1
        return {"subnet_id": ext_sub, "ip_address": str(ip)}

    rlist = []
    for i in range(routers):
        net = tenant_nets[i][0]
        rlist.append(
            {
                "id": uid(),
                "name": f"router-{i:04d}",
                "project_id": net["project_id"],
                "ha": backend == "ml2" and i % 2 == 0,
                "external_gateway_info": {
                    "network_id": ext_id,
                    "enable_snat": True,
                    "external_fixed_ips": [ext_ip()],
                },
            }
        )
    out["routers"] = rlist

    weights = [w for _, w in STATUS_MIX]
    statuses = [s for s, _ in STATUS_MIX]
    slist = []
    for i in range(vms):
        p = tenant_projects[rng.randrange(len(tenant_projects))]
        st = rng.choices(statuses, weights)[0] if faults else "ACTIVE"
        hv = hvs[rng.randrange(len(hvs))]
        age = rng.randrange(3600, 400 * 86400)
        s: dict[str, Any] = {
            "id": uid(),
            "name": f"vm-{i:05d}",
            "tenant_id": p["id"],
            "flavor": flavor_names[rng.randrange(len(flavor_names))],
            "status": st,
            "created": f"-{age}s",
            "updated": f"-{rng.randrange(60, age)}s",
            "OS-EXT-SRV-ATTR:instance_name": f"instance-{i + 1:08x}",
        }
        if st != "SHELVED_OFFLOADED":
            s["OS-EXT-SRV-ATTR:host"] = hv["host"]
            s["OS-EXT-SRV-ATTR:hypervisor_hostname"] = hv["hypervisor_hostname"]
        if st == "ERROR":
            s["fault"] = {"code": 500, "message": "Failed to power on: vCenter task failed", "created": "-1h"}
        slist.append(s)
    out["servers"] = slist

    plist_ports: list[dict] = []

    def add_port(**p: Any) -> bool:
        if len(plist_ports) >= ports:
            return False
        plist_ports.append(p)
        return True

    vm_nets = []
    for s in slist:
        t = rng.choice(nets_by_project[s["tenant_id"]])
        vm_nets.append(t)
        host = s.get("OS-EXT-SRV-ATTR:host") or ""
        down = faults and s["status"] == "ACTIVE" and rng.random() < 0.003
        if not add_port(
            id=uid(),
            name="",
            network_id=t[0]["id"],
            device_id=s["id"],
            device_owner="compute:nova",
            project_id=s["tenant_id"],
            fixed_ips=[next_ip(t)],
            **{"binding:host_id": host},
            status="DOWN" if down or s["status"] in ("SHUTOFF", "SHELVED_OFFLOADED") else "ACTIVE",
        ):
            break
    for i, r in enumerate(rlist):
        t = tenant_nets[i]
        add_port(
            id=uid(),
            network_id=t[0]["id"],
            device_id=r["id"],
            device_owner="network:router_interface",
            project_id=r["project_id"],
            fixed_ips=[{"subnet_id": t[1]["id"], "ip_address": str(t[2].network_address + 1)}],
        )
        add_port(
            id=uid(),
            network_id=ext_id,
            device_id=r["id"],
            device_owner="network:router_gateway",
            project_id="",
            fixed_ips=r["external_gateway_info"]["external_fixed_ips"],
        )
    for t in tenant_nets:
        add_port(
            id=uid(),
            network_id=t[0]["id"],
            device_owner="network:dhcp",
            project_id=t[0]["project_id"],
            fixed_ips=[{"subnet_id": t[1]["id"], "ip_address": str(t[2].network_address + 2)}],
        )
    i = 0
    while len(plist_ports) < ports and slist:
        s = slist[i % len(slist)]
        t = vm_nets[i % len(slist)]
        add_port(
            id=uid(),
            network_id=t[0]["id"],
            device_id=s["id"],
            device_owner="compute:nova",
            project_id=s["tenant_id"],
            fixed_ips=[next_ip(t)],
            **{"binding:host_id": s.get("OS-EXT-SRV-ATTR:host") or ""},
        )
        i += 1
    out["ports"] = plist_ports

    vlist = []
    active = [s for s in slist if s.get("OS-EXT-SRV-ATTR:host")]
    for i in range(volumes):
        p = tenant_projects[rng.randrange(len(tenant_projects))]
        v: dict[str, Any] = {
            "id": uid(),
            "name": f"vol-{i:05d}",
            "size": rng.choice((10, 20, 50, 100, 500)),
            "created_at": f"-{rng.randrange(3600, 300 * 86400)}s",
        }
        if active and rng.random() < 0.7:
            s = active[rng.randrange(len(active))]
            v["os-vol-tenant-attr:tenant_id"] = s["tenant_id"]
            v["attachments"] = [{"server_id": s["id"], "host_name": s["OS-EXT-SRV-ATTR:host"]}]
            v["status"] = "in-use"
        else:
            v["os-vol-tenant-attr:tenant_id"] = p["id"]
            v["status"] = "error" if faults and rng.random() < 0.005 else "available"
        vlist.append(v)
    out["volumes"] = vlist

    if backend == "ml2":
        n_l3 = max(2, routers // 100 + 1)
        l3 = [
            {"id": uid(), "agent_type": "L3 agent", "host": f"vio-network-{i + 1:02d}", "routers": []}
            for i in range(n_l3)
        ]
        for i, r in enumerate(rlist):
            l3[i % n_l3]["routers"].append(r["id"])
            if r["ha"]:
                l3[(i + 1) % n_l3]["routers"].append(r["id"])
        agents = list(l3)
        for a in l3:
            for at in ("DHCP agent", "Metadata agent", "Open vSwitch agent"):
                agents.append({"id": uid(), "agent_type": at, "host": a["host"]})
        out["agents"] = agents
    else:
        out["agents"] = []

    mlist = []
    for _ in range(min(vms // 100, 500)):
        s = slist[rng.randrange(len(slist))]
        if not s.get("OS-EXT-SRV-ATTR:host") or len(hvs) < 2:
            continue
        src = hvs[rng.randrange(len(hvs))]
        ago = rng.randrange(600, 30 * 86400)
        mlist.append(
            {
                "uuid": uid(),
                "instance_uuid": s["id"],
                "migration_type": "live-migration",
                "status": "completed" if rng.random() > 0.05 else "error",
                "source_compute": src["host"],
                "source_node": src["hypervisor_hostname"],
                "dest_compute": s["OS-EXT-SRV-ATTR:host"],
                "dest_node": s["OS-EXT-SRV-ATTR:hypervisor_hostname"],
                "created_at": f"-{ago}s",
                "updated_at": f"-{ago - 120}s",
            }
        )
    out["migrations"] = mlist
    return out


def images_and_stacks(images: int, stacks: int, projects: list[dict], seed: int | str,
                      faults: bool) -> dict[str, list[dict]]:
    """``images`` Glance images and ``stacks`` Heat stacks spread over the projects (a random stream of
    their own: the other objects of a seed stay the same); only the kinds asked for."""
    rng = random.Random(f"{seed}/images-and-stacks")
    tenants = projects[1:] or projects
    out: dict[str, list[dict]] = {}
    if images:
        ilist = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "name": f"image-{i:04d}",
                  "project": tenants[rng.randrange(len(tenants))]["id"],
                  "visibility": "public" if i % 4 == 0 else "private", "status": "active"}
                 for i in range(images)]
        if faults:
            ilist[-1].update(status="killed", updated_at="-5h")
            if images > 1:
                ilist[-2].update(status="queued", updated_at="-3h")
        out["images"] = ilist
    if stacks:
        slist = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "name": f"stack-{i:04d}",
                  "project": tenants[rng.randrange(len(tenants))]["id"], "status": "CREATE_COMPLETE"}
                 for i in range(stacks)]
        if faults:
            slist[-1].update(status="CREATE_FAILED", status_reason="Resource CREATE failed: ResourceInError: "
                             "resources.server: Went to status ERROR due to \"No valid host was found\"")
        out["stacks"] = slist
    return out


def scaled(vms: int, seed: int = 1, backend: str = "ml2", regions: Sequence[str] | None = None) -> dict:
    """``generate`` with every other size derived from the VM count (the CLI's ``--generate N``)."""
    return generate(
        vms=vms,
        clusters=max(2, min(40, vms // 250)),
        volumes=vms * 4 // 5,
        ports=vms * 2,
        routers=max(2, vms // 50),
        projects=max(3, min(50, vms // 200)),
        images=vms // 50,  # 200 images and 100 stacks at 10,000 VMs (issue 24's benchmark)
        stacks=vms // 100,
        load_balancers=vms // 20,  # 500 of 4 members (2,000) at 10,000 VMs
        seed=seed,
        backend=backend,
        regions=regions,
    )
