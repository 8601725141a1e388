"""Contract: the raw replies of upstream Octavia, Glance and Heat carry what vio_checks.optional_records reads.

Seeded by seed_more.py: load balancers lb-error (ERROR: a failed worker flow), lb-online (ACTIVE/ONLINE, a
listener, a pool, two members on the VMs' addresses), lb-degraded (a member reported DOWN: DEGRADED),
lb-disabled (admin_state_up false); stacks stack-ok (CREATE_COMPLETE) and stack-failed (CREATE_FAILED);
image-queued (no data: queued). The replies are read with the admin's keystoneauth session, as the sweep
reads them, and checked field by field against the records' constructors (LoadBalancer, Listener, Pool,
LbMember, Image, Stack).
"""

from __future__ import annotations

import pytest

#: Octavia's documented values (octavia_lib.common.constants).
PROVISIONING = {"ACTIVE", "DELETED", "ERROR", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE"}
OPERATING = {"ONLINE", "DRAINING", "OFFLINE", "DEGRADED", "ERROR", "NO_MONITOR"}

#: What optional_records.LoadBalancer is made from (the list record).
LB_FIELDS = {"id", "name", "project_id", "provisioning_status", "operating_status", "admin_state_up",
             "vip_address", "vip_subnet_id", "vip_network_id", "vip_port_id", "provider", "created_at",
             "updated_at"}
TREE_LB = {"id", "name", "provisioning_status", "operating_status", "listeners"}
TREE_LISTENER = {"id", "name", "provisioning_status", "operating_status", "pools"}
TREE_POOL = {"id", "name", "provisioning_status", "operating_status", "members"}
TREE_MEMBER = {"id", "name", "address", "protocol_port", "provisioning_status", "operating_status"}
MEMBER_FIELDS = {"id", "name", "address", "protocol_port", "subnet_id", "provisioning_status",
                 "operating_status", "admin_state_up"}
IMAGE_FIELDS = {"id", "name", "owner", "status", "visibility", "created_at", "updated_at"}
STACK_FIELDS = {"id", "stack_name", "project", "stack_status", "stack_status_reason", "creation_time",
                "updated_time"}


@pytest.fixture(scope="module")
def raw(real_cloud):
    """GET a path of a catalog service as the admin; the JSON body (200 asserted)."""
    stack = real_cloud.stack
    s = stack.admin_session()

    def get(stype: str, path: str) -> dict:
        base = stack.urls[stype] % {"project_id": s.get_project_id()}
        r = s.get(base + path, raise_exc=False)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return r.json()

    return get


def _by_name(records: list[dict], key: str = "name") -> dict[str, dict]:
    return {r[key]: r for r in records}


def test_octavia_list_has_what_the_load_balancer_record_reads(raw, real_cloud):
    lbs = _by_name(raw("load-balancer", "/v2/lbaas/loadbalancers")["loadbalancers"])
    assert {"lb-error", "lb-online", "lb-degraded", "lb-disabled"} <= set(lbs), sorted(lbs)
    for name, lb in lbs.items():
        assert LB_FIELDS <= set(lb), (name, sorted(LB_FIELDS - set(lb)))
        assert lb["provisioning_status"] in PROVISIONING and lb["operating_status"] in OPERATING, lb
        assert lb["provider"] == "amphora" and lb["project_id"] == real_cloud.seeded.project_id, lb
        assert lb["vip_address"] and lb["vip_subnet_id"], lb
    assert lbs["lb-error"]["provisioning_status"] == "ERROR", lbs["lb-error"]
    assert (lbs["lb-online"]["provisioning_status"], lbs["lb-online"]["operating_status"]) == ("ACTIVE", "ONLINE")
    assert lbs["lb-degraded"]["operating_status"] == "DEGRADED", lbs["lb-degraded"]
    disabled = lbs["lb-disabled"]
    assert disabled["admin_state_up"] is False and disabled["provisioning_status"] == "ACTIVE", disabled
    assert disabled["operating_status"] == "OFFLINE", disabled  # no heartbeat for a disabled balancer


def test_octavia_status_tree_has_listeners_pools_and_members(raw, real_cloud):
    seeded = real_cloud.seeded
    for role, lb_status, down in (("online", "ONLINE", set()), ("degraded", "DEGRADED", {"active2"})):
        tree = raw("load-balancer", f"/v2/lbaas/loadbalancers/{seeded.load_balancers[role]}/status")
        lb = tree["statuses"]["loadbalancer"]
        assert TREE_LB <= set(lb) and lb["operating_status"] == lb_status, lb
        (listener,) = lb["listeners"]
        assert TREE_LISTENER <= set(listener) and listener["operating_status"] == "ONLINE", listener
        (pool,) = listener["pools"]
        assert TREE_POOL <= set(pool), pool
        assert pool["operating_status"] == ("DEGRADED" if down else "ONLINE"), pool
        members = {m["id"]: m for m in pool["members"]}
        name = f"lb-{role}"
        for server in ("active1", "active2"):
            m = members[seeded.lb_members[f"{name}/{server}"]]
            assert TREE_MEMBER <= set(m), (sorted(TREE_MEMBER - set(m)), m)
            assert m["provisioning_status"] == "ACTIVE", m
            # A member the amphora reports DOWN is ERROR in Octavia's operating status.
            assert m["operating_status"] == ("ERROR" if server in down else "ONLINE"), m
    error_tree = raw("load-balancer", f"/v2/lbaas/loadbalancers/{seeded.load_balancers['error']}/status")
    assert error_tree["statuses"]["loadbalancer"]["provisioning_status"] == "ERROR", error_tree


def test_octavia_pool_members_carry_address_and_subnet_for_the_vm_join(raw, real_cloud):
    seeded = real_cloud.seeded
    net1_v4 = raw("network", "/v2.0/subnets?name=net1-v4")["subnets"][0]["id"]
    ports = {role: raw("network", f"/v2.0/ports/{seeded.ports[role]}")["port"] for role in ("active1", "active2")}
    members = raw("load-balancer", f"/v2/lbaas/pools/{seeded.pools['lb-online']}/members")["members"]
    assert len(members) == 2, members
    for m in members:
        assert MEMBER_FIELDS <= set(m), (sorted(MEMBER_FIELDS - set(m)), m)
        assert m["subnet_id"] == net1_v4 and m["admin_state_up"] is True, m
        assert m["operating_status"] in OPERATING and m["provisioning_status"] in PROVISIONING, m
    # Each member's address is the fixed IP of exactly one VM port on that subnet: the product's join.
    held = {ip["ip_address"]: port["device_id"] for port in ports.values() for ip in port["fixed_ips"]
            if ip["subnet_id"] == net1_v4}
    assert {held.get(m["address"]) for m in members} == {seeded.servers["active1"], seeded.servers["active2"]}


def test_glance_lists_the_queued_image_with_what_the_image_record_reads(raw, real_cloud):
    images = _by_name(raw("image", "/v2/images?visibility=all&limit=100")["images"])
    assert {"fake-image", "image-queued"} <= set(images), sorted(images)
    for name, img in images.items():
        assert IMAGE_FIELDS <= set(img), (name, sorted(IMAGE_FIELDS - set(img)))
    assert images["image-queued"]["status"] == "queued" and images["fake-image"]["status"] == "active"
    assert images["image-queued"]["owner"] == real_cloud.seeded.project_id


def test_heat_global_tenant_listing_has_the_failed_stack_and_its_reason(raw, real_cloud):
    stacks = _by_name(raw("orchestration", "/stacks?global_tenant=True&limit=100")["stacks"], "stack_name")
    assert {"stack-ok", "stack-failed"} <= set(stacks), sorted(stacks)
    for name, st in stacks.items():
        assert STACK_FIELDS <= set(st), (name, sorted(STACK_FIELDS - set(st)))
        assert st["project"] == real_cloud.seeded.project_id, st
    assert stacks["stack-ok"]["stack_status"] == "CREATE_COMPLETE", stacks["stack-ok"]
    failed = stacks["stack-failed"]
    assert failed["stack_status"] == "CREATE_FAILED", failed
    assert "Test Resource failed" in failed["stack_status_reason"], failed
