"""Load balancers of a generated cloud (``generate(..., load_balancers=N)``, see generator.py).

Each balancer is one HTTP listener on port 80 with one pool (health monitor on) of MEMBERS members. The
members are VM ports: the address and subnet of a fixed IP of a port of an ACTIVE VM, so the product's
member → VM join (a fixed IP on that subnet) finds the VM; the members of one pool are on distinct VMs of
one tenant network, the VIP an address at the top of that network's subnet (ports are numbered from the
bottom). Deterministic from the seed, on a random stream of its own (the other objects of a seed stay the
same). With ``faults``: the last balancer's members are all ERROR (operating status ERROR), one member of
the one before is ERROR (DEGRADED).
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from typing import Any

#: Members per pool (one pool per balancer).
MEMBERS = 4


def load_balancers(n: int, cloud: dict[str, Any], seed: int | str, faults: bool) -> list[dict]:
    """``n`` load balancers over the VM ports of ``cloud`` (a generated region: its servers, ports,
    subnets); none when it has no network with enough VMs."""
    if n <= 0:
        return []
    rng = random.Random(f"{seed}/loadbalancers")

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    active = {s["id"]: s for s in cloud.get("servers", []) if s.get("status") == "ACTIVE"}
    subnets = {sn["id"]: sn for sn in cloud.get("subnets", [])}
    # tenant network → [(server, fixed ip)], first port of each ACTIVE VM on it
    by_net: dict[str, list[tuple[dict, dict]]] = {}
    seen: set[tuple[str, str]] = set()
    for p in cloud.get("ports", []):
        server = active.get(p.get("device_id") or "")
        if not server or p.get("device_owner") != "compute:nova" or not p.get("fixed_ips"):
            continue
        if (p["network_id"], server["id"]) in seen:
            continue
        seen.add((p["network_id"], server["id"]))
        by_net.setdefault(p["network_id"], []).append((server, p["fixed_ips"][0]))
    nets = sorted(k for k, v in by_net.items() if len(v) >= MEMBERS)
    if not nets:
        return []
    vips: dict[str, int] = {}
    out = []
    for i in range(n):
        net = nets[rng.randrange(len(nets))]
        picked = rng.sample(by_net[net], MEMBERS)
        subnet_id = picked[0][1]["subnet_id"]
        vips[net] = vips.get(net, 0) + 1
        vip = ipaddress.ip_network(subnets[subnet_id]["cidr"]).broadcast_address - vips[net]
        name = f"lb-{i:04d}"
        members = [{"name": s["name"], "address": ip["ip_address"], "subnet_id": ip["subnet_id"],
                    "protocol_port": 80} for s, ip in picked]
        pool = {"id": uid(), "name": f"{name}-pool", "health_monitor": True, "members": members}
        out.append({
            "id": uid(), "name": name, "project_id": picked[0][0]["tenant_id"],
            "vip_network_id": net, "vip_subnet_id": subnet_id, "vip_address": str(vip),
            "vip_port_id": uid(),
            "listeners": [{"id": uid(), "name": f"{name}-http", "protocol": "HTTP", "protocol_port": 80,
                           "pools": [pool["id"]]}],
            "pools": [pool],
        })
    if faults:
        for m in out[-1]["pools"][0]["members"]:
            m["operating_status"] = "ERROR"  # every member down: the balancer's operating status ERROR
        if n > 1:
            out[-2]["pools"][0]["members"][0]["operating_status"] = "ERROR"  # one of four: DEGRADED
    return out
