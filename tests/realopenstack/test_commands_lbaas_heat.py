"""Contract: the product's commands for load balancers, images and stacks against upstream.

Data: seed_more.py (see test_contract_lbaas_heat.py's docstring). The certificate command against the stack's
https endpoint is in test_certificates.py.
"""

from __future__ import annotations


def test_loadbalancer_in_error_is_critical(real, real_cloud):
    lb = real_cloud.seeded.load_balancers["error"]
    r = real.run("check_vio_loadbalancer", "--id", lb)
    assert r.rc == 2 and r.status.startswith("VIO LOADBALANCER CRITICAL"), str(r)
    assert "lb-error" in r.status and "ERROR" in r.status, str(r)


def test_loadbalancer_active_online_is_ok(real, real_cloud):
    r = real.run("check_vio_loadbalancer", "--id", real_cloud.seeded.load_balancers["online"])
    assert r.rc == 0 and r.status.startswith("VIO LOADBALANCER OK"), str(r)
    assert "lb-online" in r.status, str(r)


def test_loadbalancer_degraded_by_octavias_health_manager_is_a_warning_naming_the_member(real, real_cloud):
    r = real.run("check_vio_loadbalancer", "--id", real_cloud.seeded.load_balancers["degraded"])
    assert r.rc == 1 and r.status.startswith("VIO LOADBALANCER WARNING"), str(r)
    assert "DEGRADED" in r.status and "1 of 2 members down: lb-degraded-active2" in r.status, str(r)


def test_admin_disabled_loadbalancer_is_not_critical(real, real_cloud):
    r = real.run("check_vio_loadbalancer", "--id", real_cloud.seeded.load_balancers["disabled"])
    assert r.rc == 0 and "lb-disabled is OFFLINE (admin disabled)" in r.status, str(r)


def test_loadbalancer_member_joins_its_vm(real, real_cloud):
    seeded = real_cloud.seeded
    member = seeded.lb_members["lb-online/active1"]
    r = real.run("check_vio_loadbalancer", "--id", seeded.load_balancers["online"], "--member", member)
    assert r.rc == 0 and "VM vm-active-1 is ACTIVE" in r.status, str(r)
    agg = real.run("check_vio_loadbalancer")
    assert agg.rc == 2 and "1 CRITICAL, 1 WARNING of 4 load balancers" in agg.status, str(agg)


def test_failed_stack_is_critical_with_its_reason(real):
    r = real.run("check_vio_stack", "--name", "stack-failed")
    assert r.rc == 2 and r.status.startswith("VIO STACK CRITICAL"), str(r)
    assert "CREATE_FAILED" in r.status and "Test Resource failed" in r.status, str(r)
    ok = real.run("check_vio_stack", "--name", "stack-ok")
    assert ok.rc == 0 and ok.status == "VIO STACK OK - stack stack-ok is CREATE_COMPLETE", str(ok)
    agg = real.run("check_vio_stack")
    assert agg.rc == 2 and "1 CRITICAL" in agg.status, str(agg)


def test_queued_image_is_a_warning_once_stuck(real):
    r = real.run("check_vio_image", "--name", "image-queued", "--stuck-after", "0")
    assert r.rc == 1 and r.status.startswith("VIO IMAGE WARNING"), str(r)
    assert "image-queued" in r.status and "queued" in r.status, str(r)
    ok = real.run("check_vio_image", "--name", "fake-image")
    assert ok.rc == 0 and ok.status == "VIO IMAGE OK - image fake-image is active", str(ok)
