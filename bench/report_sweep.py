"""Figure 3 of BENCHMARKS.md (sweeps: requests by part of the formula, TLS handshakes, wall, peak RSS), its
summary rows, and what grew against the previous report's figures."""

from __future__ import annotations

from collections.abc import Callable

from .figures import OPTIONAL_LISTS, SWEEP_LISTS, SWEEP_OVERHEAD, handshakes_hold, sweep_requests_hold
from .procs import fmt_s, fmt_spread

#: Figure 3 of the previous BENCHMARKS.md (make bench of 2026-11-29, before load balancers, images,
#: stacks and TLS endpoints were in the generated clouds): VMs → first-sweep requests, HA-router requests,
#: pages, wall (median), peak RSS (max of three sweeps).
PREVIOUS_DATE = "2026-11-29"
PREVIOUS = {100: {"requests": 25, "ha": 5, "pages": 11, "wall": 0.469, "rss_mb": 161},
            10000: {"requests": 159, "ha": 100, "pages": 49, "wall": 3.73, "rss_mb": 244}}

TARGET = (f"pages + {SWEEP_OVERHEAD} + one per HA router, one per load balancer, one per pool and one "
          "endpoint probe per https endpoint added to the catalog")


def parts(f3: dict) -> dict[str, int]:
    """The first sweep's requests split by the formula's parts (overhead: what is left, the 20's share)."""
    pages = f3.get("pages_by_list", {})
    out = {"pages": sum(pages.get(k, 0) for k in SWEEP_LISTS),
           "optional pages": sum(pages.get(k, 0) for k in OPTIONAL_LISTS),
           "HA routers": f3["per_ha_router_total"], "status trees": f3.get("lb_trees", 0),
           "members lists": f3.get("lb_members_lists", 0), "endpoint probes": f3.get("per_tls_total", 0),
           "per other object": f3["per_object_total"]}
    out["overhead"] = f3["requests"] - sum(out.values())
    return out


def summary_rows(f3s: list[dict]) -> list[tuple]:
    """Figure 3's rows of the summary table."""
    rows: list[tuple] = []
    for f3 in f3s:
        v = f3["sizes"]["vms"]
        ok_rc = all(rc == 0 for rc in f3["rc"])
        p = parts(f3)
        rows.append(("3", f"sweep requests at {v} VMs",
                     f"{f3['requests']} (pages {f3['pages_needed']}, {p['HA routers']} for "
                     f"{f3['ha_routers']} HA routers, {p['status trees']} for "
                     f"{f3.get('load_balancers', 0)} load balancers, {p['members lists']} for "
                     f"{f3.get('lb_pools', 0)} pools, {p['endpoint probes']} "
                     f"for {f3.get('tls_endpoints', 0)} https endpoints, {p['per other object']} per other "
                     "object)",
                     f"<= {TARGET} ({f3['requests_allowed']}), none per other object",
                     ok_rc and sweep_requests_hold(f3)))
        rows.append(("3", f"TLS handshakes of a sweep at {v} VMs (not requests)",
                     f"{f3.get('handshakes')}, later {', '.join(map(str, f3.get('handshakes_later', [])))}",
                     f"one per https host:port ({f3.get('tls_endpoints', 0)})",
                     ok_rc and handshakes_hold(f3)))
        rows.append(("3", f"sweep peak RSS at {v} VMs", f"{f3['rss_mb']['max']:.0f} MB "
                     f"(wall {fmt_s(f3['wall']['median'])})", "<= 400 MB",
                     ok_rc and f3["rss_mb"]["max"] <= 400))
        rows.append(("3", f"token requests of later sweeps at {v} VMs", ", ".join(map(str, f3["token_later"]))
                     or "n/a", "0", bool(f3["token_later"]) and not any(f3["token_later"])))
    return rows


def render(f3s: list[dict], add: Callable[[str], None]) -> None:
    """Section 3 of the report."""
    add("## 3. Sweeps")
    add("")
    add("`vio-discover --json`, run back to back; requests are the simulator's counters (every HTTP request, "
        "token and version discovery included). Pages needed: per listed collection "
        f"({', '.join(SWEEP_LISTS)}), one per full page of `page_max` plus the last; and the same for the "
        "lists of Glance, Heat and Octavia (images, stacks, load balancers) when the catalog has them, as "
        "the generated clouds do: `vms / 50` images, `vms / 100` stacks, `vms / 20` load balancers of one "
        "listener, one pool and 4 members each (members on VM ports; 200, 100, 500 and 2,000 at 10,000 VMs).")
    add("")
    add(f"The target is {TARGET}, and none for any other object (the 20 cover token, version discovery, "
        "services, Neutron's extensions, the per-L3-agent lists, and the endpoint probes and version "
        "discovery of the services the cloud runs). The one request per HA router (`GET /v2.0/routers/{id}/"
        "l3-agents`) cannot be paged away: an HA router is healthy only when exactly one of its hosting L3 "
        "agents is `active`, and Neutron returns `ha_state` per agent only in that per-router reply (the "
        "routers list says `ha: true` but nothing per agent; the per-agent `l3-routers` list has no "
        "`ha_state`). Likewise with Octavia in the catalog, one per load balancer (`GET /v2/lbaas/"
        "loadbalancers/{id}/status`: its status tree, the only reply with its pools' and members' operating "
        "status) and one per pool (`GET /v2/lbaas/pools/{id}/members`: the members' subnets for the member "
        "→ VM join; Octavia has no list of all members), plus the list's pages; none per member "
        "(`vio_checks/octavia_sweep.py`). Every catalog endpoint costs one unauthenticated probe "
        "(`probes.py`); the https endpoints added to the catalog here (each a TLS server of the simulator "
        "with its own port, certificate signed by a CA the clouds.yaml names as `cacert`) add one probe "
        "each, and one TLS handshake each for their certificate (`certificates.py`): handshakes are "
        "counted apart (`vio-discover --json`'s `handshakes`), never in the requests. "
        "`tests/test_discovery.py` and `tests/test_bench.py` assert these counts.")
    add("")
    add("| cloud | requests (first sweep) | allowed = pages + 20 + HA routers + load balancers + pools + "
        "https endpoints | pages (of them Glance, Heat, Octavia) | HA-router requests | status trees | "
        "members lists | endpoint probes of https endpoints | other per-object requests | overhead | "
        "TLS handshakes (first, later) | token requests, later sweeps | wall | peak RSS |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for f3 in f3s:
        s, p = f3["sizes"], parts(f3)
        add(f"| {s['vms']} VMs, {s['clusters']} clusters, {s['volumes']} volumes, {s['ports']} ports, "
            f"{s['routers']} routers ({f3['ha_routers']} HA), {f3.get('load_balancers', 0)} load balancers "
            f"({f3.get('lb_pools', 0)} pools), {f3.get('tls_endpoints', 0)} https endpoints | "
            f"{f3['requests']} | "
            f"{f3['requests_allowed']} = {f3['pages_needed']} + {SWEEP_OVERHEAD} + {f3['ha_routers']} + "
            f"{f3.get('load_balancers', 0)} + {f3.get('lb_pools', 0)} + {f3.get('tls_endpoints', 0)} | "
            f"{f3['pages_needed']} ({p['optional pages']}) | {p['HA routers']} | {p['status trees']} | "
            f"{p['members lists']} | {p['endpoint probes']} | {p['per other object']} | {p['overhead']} | "
            f"{f3.get('handshakes')}, {', '.join(map(str, f3.get('handshakes_later', [])))} | "
            f"{', '.join(map(str, f3['token_later'])) or 'n/a'} | {fmt_spread(f3['wall'])} | "
            f"{fmt_spread(f3['rss_mb'], lambda x: f'{x:.0f} MB')} |")
    add("")
    for f3 in f3s:
        add(f"Requests of the first sweep at {f3['sizes']['vms']} VMs by path (object ids as "
            f"`{{<kind> id}}`; vio-discover reported {f3['requests_reported']}; later sweeps "
            f"{', '.join(map(str, f3['requests_later']))}):")
        add("")
        for t, n in f3["templates"].items():
            note = " (**per object**)" if t in f3["per_object"] else (
                " (per L3 agent)" if t in f3["per_agent"] else (
                    " (per HA router)" if t in f3["per_ha_router"] else (
                        " (per load balancer / pool)" if t in f3.get("per_lb", {}) else (
                            " (probe of an https endpoint)" if t in f3.get("per_tls_probe", {}) else ""))))
            add(f"- {n} × `{t}`{note}")
        add("")
        if f3["errors"]:
            add(f"Failed sweeps: {'; '.join(f3['errors'])}")
            add("")
    render_growth(f3s, add)


def render_growth(f3s: list[dict], add: Callable[[str], None]) -> None:
    """What grew against the previous report's figure 3 (PREVIOUS), and why."""
    rows = [f3 for f3 in f3s if f3["sizes"]["vms"] in PREVIOUS]
    if not rows:
        return
    add(f"### What grew against the previous report ({PREVIOUS_DATE})")
    add("")
    add("That report's clouds had neither load balancers, images, stacks nor https endpoints. Same sizes "
        "otherwise, same simulator and machine (absolute times move with its load).")
    add("")
    add("| cloud | requests before → now | of the growth: status trees + members lists + Octavia, Glance, "
        "Heat pages + https endpoint probes + overhead | wall (median) before → now | per added request | "
        "peak RSS before → now |")
    add("|---|---|---|---|---|---|")
    for f3 in rows:
        v, before, p = f3["sizes"]["vms"], PREVIOUS[f3["sizes"]["vms"]], parts(f3)
        old_overhead = before["requests"] - before["pages"] - before["ha"]
        grown = f3["requests"] - before["requests"]
        dwall = f3["wall"]["median"] - before["wall"]
        per = fmt_s(dwall / grown) if grown > 0 else "n/a"
        add(f"| {v} VMs | {before['requests']} → {f3['requests']} (+{grown}) | {p['status trees']} + "
            f"{p['members lists']} + {p['optional pages']} + {p['endpoint probes']} + "
            f"{p['overhead'] - old_overhead} (overhead {old_overhead} → {p['overhead']}) | "
            f"{fmt_s(before['wall'])} → {fmt_s(f3['wall']['median'])} | {per} | "
            f"{before['rss_mb']} MB → {f3['rss_mb']['max']:.0f} MB |")
    add("")
    add("Why: the requests grew by the load balancers' per-object terms the formula names (one status tree "
        "per load balancer, one members list per pool: 1,000 at 10,000 VMs), by one page each of the three "
        "new lists, by one probe per added https endpoint, and in the overhead by the new services' version "
        "discovery and endpoint probes. The wall grew with them, less than the requests: a sweep reads the "
        "load balancers' trees 8 at a time (octavia_sweep.TREE_WORKERS; in series, 500 load balancers "
        "took 18 s here), each a round trip to the simulator, which serves from the benchmark's own "
        "process on the same 2 cores (the column \"per added request\" is the wall's growth divided by "
        "the requests'; the machine's load moves it too); the handshakes run in parallel (at most 8 at "
        "once). Figure 4's checks wait for this longer sweep, so their wall grows with it. Peak RSS grew "
        "with the new records held and written (load balancers with their listeners, pools and members, "
        "images, stacks, certificates) and the 1,000 more replies parsed; the previous report's "
        "spread at 10,000 VMs was 190 / 218 / 244 MB, this run's is in the table above.")
    add("")
