"""The end-to-end cloud and how its generated dependencies are read: E2E_SCENARIO, PREFIX, one parent each.

The monitoring states are Icinga 2's numbers (Nagios 4's are read as the same by harness/nagios.py).
"""

from __future__ import annotations

import re

#: Object-name prefix of the generated objects (cloud "vio-sim", no region).
PREFIX = "vio-vio-sim"

#: A small cloud (31 monitored objects, so a full round of checks takes a few seconds): two clusters with two
#: VMs each; net-a behind an HA router (both L3 agents), net-b behind a single-agent router; a volume on one
#: VM per cluster.
E2E_SCENARIO = {
    "description": "vio-checks end-to-end: two clusters, four VMs, two routers, two L3 agents",
    "settings": {"neutron_backend": "ml2", "vif_type": "ovs"},
    "projects": [{"name": "admin"}, {"name": "shop"}],
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}],
    "compute_services": [{"binary": "nova-scheduler", "host": "vio-controller-01"},
                         {"binary": "nova-conductor", "host": "vio-controller-01"},
                         {"binary": "nova-compute", "host": "vio-compute-01"},
                         {"binary": "nova-compute", "host": "vio-compute-02"}],
    "hypervisors": [{"hypervisor_hostname": "domain-c8.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", "host": "vio-compute-01",
                     "vcpus": 64, "memory_mb": 262144, "local_gb": 4096},
                    {"hypervisor_hostname": "domain-c9.9d51f082-5b2e-4c47-8b1f-3a6c2e7d0a11", "host": "vio-compute-02",
                     "vcpus": 64, "memory_mb": 262144, "local_gb": 4096}],
    "volume_services": [{"binary": "cinder-scheduler", "host": "vio-controller-01"},
                        {"binary": "cinder-volume", "host": "vio-controller-01@vmdk"}],
    "networks": [{"name": "ext-net", "router:external": True, "shared": True, "project": "admin",
                  "cidr": "198.51.100.0/24"},
                 {"name": "net-a", "project": "shop", "cidr": "10.1.1.0/24"},
                 {"name": "net-b", "project": "shop", "cidr": "10.1.2.0/24"}],
    "routers": [{"name": "router-a", "project": "shop", "external_network": "ext-net", "ha": True},
                {"name": "router-b", "project": "shop", "external_network": "ext-net"}],
    "servers": [{"name": "web-01", "project": "shop", "flavor": "m1.small", "host": "vio-compute-01"},
                {"name": "db-01", "project": "shop", "flavor": "m1.small", "host": "vio-compute-01"},
                {"name": "web-02", "project": "shop", "flavor": "m1.small", "host": "vio-compute-02"},
                {"name": "db-02", "project": "shop", "flavor": "m1.small", "host": "vio-compute-02"}],
    "ports": [{"name": "web-01-eth0", "network": "net-a", "device_id": "web-01"},
              {"name": "db-01-eth0", "network": "net-b", "device_id": "db-01"},
              {"name": "web-02-eth0", "network": "net-a", "device_id": "web-02"},
              {"name": "db-02-eth0", "network": "net-b", "device_id": "db-02"},
              {"name": "", "network": "net-a", "device_id": "router-a", "device_owner": "network:router_interface",
               "ip": "10.1.1.1"},
              {"name": "", "network": "net-b", "device_id": "router-b", "device_owner": "network:router_interface",
               "ip": "10.1.2.1"}],
    "volumes": [{"name": "db-01-data", "project": "shop", "size": 10, "attachments": [{"server_id": "db-01"}]},
                {"name": "db-02-data", "project": "shop", "size": 10, "attachments": [{"server_id": "db-02"}]}],
    "agents": [{"agent_type": "L3 agent", "host": "vio-network-01", "routers": ["router-a", "router-b"]},
               {"agent_type": "L3 agent", "host": "vio-network-02", "routers": ["router-a"]},
               {"agent_type": "DHCP agent", "host": "vio-network-01"}],
}

#: Icinga 2 host / service states.
UP, DOWN = 0, 1
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
SOFT, HARD = 0, 1


# --- one parent per child --------------------------------------------------------------------------------

_DEPENDENCY = re.compile(r'^object Dependency "[^"]*" \{\n(.*?)\n\}', re.S | re.M)


def dependency_children(text: str) -> dict[str, list[str]]:
    """child → its parents, from the Dependency objects of a generated Icinga 2 file (`host` or
    `host!service`, as Icinga names them)."""
    out: dict[str, list[str]] = {}
    for body in _DEPENDENCY.findall(text):
        f = dict(re.findall(r'^\s*(\w+) = "([^"]*)"$', body, re.M))
        child = f["child_host_name"] + (f"!{f['child_service_name']}" if "child_service_name" in f else "")
        parent = f["parent_host_name"] + (f"!{f['parent_service_name']}" if "parent_service_name" in f else "")
        out.setdefault(child, []).append(parent)
    return out


def assert_one_parent_each(source) -> dict[str, str]:
    """Every Dependency child has exactly one parent and no Dependency has a redundancy_group: the file
    means the same on Icinga 2.13 and 2.14. `source`: a generated file's text, or a running Icinga2 (its
    Dependency objects as loaded, read through the API). Returns child → parent."""
    if isinstance(source, str):
        assert not re.search(r"^\s*redundancy_group\s*=", source, re.M), "a redundancy_group was generated"
        children = dependency_children(source)
    else:
        children = {}
        # every attribute: naming redundancy_group would be a 400 on 2.13, which has no such attribute
        data = source.api("GET", "/v1/objects/dependencies")
        for r in data["results"]:
            a = r["attrs"]
            assert not a.get("redundancy_group"), f"{r['name']} has a redundancy_group"
            child = a["child_host_name"] + (f"!{a['child_service_name']}" if a.get("child_service_name") else "")
            parent = a["parent_host_name"] + (f"!{a['parent_service_name']}" if a.get("parent_service_name") else "")
            children.setdefault(child, []).append(parent)
    assert children, "no Dependency at all"
    several = {c: ps for c, ps in children.items() if len(ps) != 1}
    assert not several, f"children with more than one parent: {several}"
    return {c: ps[0] for c, ps in children.items()}


