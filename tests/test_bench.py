"""The benchmark harness's smoke run: every figure runs end to end and the report says what it measured.

Timings are not asserted; counts that do not depend on noise are: requests per sweep (figure 3), requests
per bulk round (figure 7).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quick_bench(tmp_path: Path, only: str) -> tuple[str, dict]:
    report, raw = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    # as `make bench` runs it: the package bench from the repository root (it imports tests.harness)
    p = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--only", only,
                        "--output", str(report), "--json", str(raw)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return report.read_text(), json.loads(raw.read_text())


@pytest.mark.slow
def test_bench_quick_writes_a_report(tmp_path):
    text, results = quick_bench(tmp_path, "1,2,3,4,5,6")
    for heading in ("## Machine", "## Summary", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.",
                    "## Reproducing one figure by hand"):
        assert heading in text, heading
    # the harness itself works: checks ran and answered, sweeps succeeded, the stampede was counted
    assert results["1"]["check_cpu"]["n"] >= 3 and not results["1"]["bad"]
    assert all(rc == 0 for f3 in results["3"] for rc in f3["rc"])
    assert all(f4["checks"] > 0 and f4["sweeps"] >= 1 for f4 in results["4"])
    assert all(f4["timeout"] == 60 for f4 in results["4"])  # -t of the stampede, stated in the report
    assert results["5"]["warm"]["median"] > 0 and results["5"]["plain"]["median"] > 0
    for fmt, v in results["6"]["validate"].items():  # the report reads generate's "validated" line
        assert "skipped" in v or (v["rc"] == 1 and v["seconds"] is not None), (fmt, v)


@pytest.mark.slow
def test_bench_sweep_requests_are_pages_plus_one_per_ha_router_load_balancer_and_pool(tmp_path):
    """Figure 3's target as the report states it: pages + 20 + one request per HA router (ha_state per
    agent is only in /routers/{id}/l3-agents), one per load balancer (its status tree) and one per pool (its
    members), one endpoint probe per https endpoint, none per any other object; one TLS handshake per https
    endpoint, not counted as a request."""
    text, results = quick_bench(tmp_path, "3")
    for f3 in results["3"]:
        assert f3["ha_routers"] > 0  # the generated clouds have HA routers: the count is exercised
        assert f3["per_ha_router_total"] == f3["ha_routers"], f3["templates"]
        assert f3["load_balancers"] > 0 and f3["lb_pools"] == f3["load_balancers"]  # one pool each
        assert f3["lb_trees"] == f3["load_balancers"] and f3["lb_members_lists"] == f3["lb_pools"], f3["per_lb"]
        assert f3["tls_endpoints"] == 2 and f3["per_tls_total"] == 2, f3["per_tls_probe"]
        assert f3["handshakes"] == 2 and f3["handshakes_later"] == [2]
        assert f3["per_object_total"] == 0, f3["per_object"]
        assert f3["requests"] <= f3["requests_allowed"] == (f3["pages_needed"] + 20 + f3["ha_routers"]
                                                           + f3["load_balancers"] + f3["lb_pools"] + 2)
        # the Octavia list is among the pages: one page of it (quick: page_max 100)
        assert f3["pages_by_list"]["loadbalancers"] == 1
    assert "one per HA router" in text and "one per load balancer, one per pool" in text
    assert "**NO**" not in text.split("## 1.")[0]


@pytest.mark.slow
@pytest.mark.e2e
def test_bench_bulk_push_against_real_icinga2(tmp_path):
    """Figure 7: every generated checkable reaches icinga2 in one full round, one request each; a round
    with nothing changed sends only the heartbeat and the problems."""
    from icinga_e2e import ICINGA2, require

    require(ICINGA2, "icinga2-bin icinga2-common")
    text, results = quick_bench(tmp_path, "7")
    f7 = results["7"]
    assert "error" not in f7 and "skipped" not in f7, f7
    assert "## 7. Bulk push" in text and "pusher CPU per object" in text
    assert len(f7["sizes"]) == 2
    for s in f7["sizes"]:
        for r in s["full"]:
            assert r["rc"] == 0 and r["errors"] == 0, r
            assert r["sent"] == r["objects"] == r["requests"] == s["in_icinga"] > 0, r
        assert s["pending_before"] > 0 and s["pending_after"] == 0  # every object got its first result
        u = s["unchanged"]
        # nothing changed: only the heartbeat (the cloud host) and the problems with what is below them
        assert u["rc"] == 0 and u["objects"] == s["in_icinga"] and u["sent"] == u["requests"], u
        assert 1 <= u["sent"] <= u["objects"] // 20, u
        assert s["judge_only"]["rc"] == 0 and s["judge_only"]["sent"] >= s["in_icinga"]
    assert f7["active_cpu"] > 0
