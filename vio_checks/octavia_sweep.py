"""The load balancers' part of a sweep (Octavia, `load-balancer` in the catalog), and the member → VM join.

Requests, when the catalog has `load-balancer` (none when it lacks it):

- `GET /v2/lbaas/loadbalancers`, paged: one per page;
- `GET /v2/lbaas/loadbalancers/{id}/status` per load balancer: its status tree (listeners → pools →
  members, each with provisioning and operating status), the only place Octavia gives a pool's and a
  member's operating status in one reply;
- `GET /v2/lbaas/pools/{id}/members` per pool of that tree (paged, one page in practice): the members'
  `subnet_id` and `admin_state_up`, which the status tree leaves out (Octavia's API has no list of all
  members, and its pools list names members by id only).

So 1 per page + 1 per load balancer + 1 per pool. The trees are read TREE_WORKERS at a time (each is a
small GET: in series, a cloud's hundreds of load balancers would cost their round trips one by one). A
status tree (or a members list) that fails is that
load balancer's `tree_error`: its pools and members are unverified, the sweep goes on. A list that fails
is Octavia's finding (`Meta.service_errors["load-balancer"]`), not a failed sweep: the kind keeps its last
known records (`keep_unread`, with the snapshot the sweep replaces).

**The join.** A member is an address on a subnet, not a server: it joins the Nova server whose Neutron
port has a fixed IP of that address on that subnet (the port's `device_id`). A member whose address is on
no port of that subnet, or on several ports of different servers, does not join (`server_id` None) and
is counted, never guessed.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import urllib.parse
from typing import Any

from vio_checks import documented as doc
from vio_checks.errors import SweepError
from vio_checks.model import Inventory
from vio_checks.normalize import MalformedRecord, _checked, _enum, _opt_str, _problems, _str, parse_time
from vio_checks.optional_records import LbMember, Listener, LoadBalancer, Pool

log = logging.getLogger(__name__)

SERVICE_TYPE = "load-balancer"
KIND = "load_balancers"
#: The SDK's service adapter for it (CloudClient.adapter).
ADAPTER = "load_balancer"
#: Paths are relative to the versioned endpoint the SDK discovers (Octavia serves v2 as /v2 and /v2.0).
BASE = "/lbaas"
#: Status trees (with their pools' member lists) read at once.
TREE_WORKERS = 8
#: Seconds past the budget the sweep waits for a tree still being read (a reply trickling in) before it
#: leaves that balancer unverified.
TREE_GRACE = 0.2


def sweep_load_balancers(client: Any, inv: Inventory, page_size: int = 1000) -> None:
    """Fill `inv.load_balancers` (with status trees and members) when the catalog has Octavia, then join
    the members to servers. Sets `inv.meta.service_errors[SERVICE_TYPE]` when the list cannot be read."""
    if not inv.meta.services.get(SERVICE_TYPE):
        return
    errors = inv.meta.service_errors
    try:
        adapter = client.adapter(ADAPTER)
        lbs = []
        for page in client.pages(adapter, f"{BASE}/loadbalancers", "loadbalancers", {"limit": page_size}):
            for raw in page:
                lbs.append(load_balancer(raw))
    except (SweepError, MalformedRecord) as e:
        errors[SERVICE_TYPE] = f"octavia: load balancers not read: {e}"
        log.warning("%s", errors[SERVICE_TYPE])
        return
    _read_trees(client, adapter, lbs, page_size)
    inv.load_balancers = lbs
    join_members(inv)


def _read_trees(client: Any, adapter: Any, lbs: list[LoadBalancer], page_size: int) -> None:
    """Each load balancer's status tree and members, TREE_WORKERS at a time on daemon threads (one still
    reading at the end keeps no process alive). A thread fills a copy of its balancer, taken back only when
    it finished in time: one that did not is unverified, and a late thread changes nothing the sweep keeps."""
    done: dict[int, LoadBalancer] = {}
    todo = iter(enumerate(lbs))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i, lb = next(todo, (None, None))
            if lb is None:
                return
            mine = copy.deepcopy(lb)
            try:
                _read_tree(client, adapter, mine, page_size)
            except Exception as e:  # anything else a request raises: this balancer's finding alone
                mine.tree_error, mine.listeners, mine.pools = str(e) or type(e).__name__, [], []
            done[i] = mine

    threads = [threading.Thread(target=work, daemon=True, name="lb-tree")
               for _ in range(min(TREE_WORKERS, len(lbs)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, client.deadline + TREE_GRACE - time.monotonic()))
    for i, lb in enumerate(lbs):
        if i in done:
            lbs[i] = done[i]
        else:
            lb.tree_error = "status tree not read within the sweep's budget"
            lb.listeners, lb.pools = [], []


def _read_tree(client: Any, adapter: Any, lb: LoadBalancer, page_size: int) -> None:
    quote = urllib.parse.quote
    try:
        body = client.get_json(adapter, f"{BASE}/loadbalancers/{quote(lb.id, safe='')}/status")
        tree = (body or {}).get("statuses", {}).get("loadbalancer")
        if not isinstance(tree, dict):
            raise MalformedRecord("malformed status tree (no statuses.loadbalancer)")
        status_tree(lb, tree)
        for pool in lb.pools:
            found = {}
            for page in client.pages(adapter, f"{BASE}/pools/{quote(pool.id, safe='')}/members", "members",
                                     {"limit": page_size}):
                for raw in page:
                    if isinstance(raw, dict) and raw.get("id"):
                        found[str(raw["id"])] = raw
            for m in pool.members:
                _add_member_fields(m, found.get(m.id))
    except (SweepError, MalformedRecord, AttributeError, TypeError) as e:
        lb.tree_error = str(e) or type(e).__name__
        lb.listeners, lb.pools = [], []


def _statuses(r: dict) -> dict:
    return {
        "provisioning_status": _enum(r.get("provisioning_status")).upper(),
        "operating_status": _enum(r.get("operating_status")).upper(),
        "missing": _problems(
            _checked(r, "provisioning_status", "provisioning_status", doc.LB_PROVISIONING, str.upper),
            _checked(r, "operating_status", "operating_status", doc.LB_OPERATING, str.upper)),
    }


def load_balancer(raw: Any) -> LoadBalancer:
    """One load balancer of `GET /v2/lbaas/loadbalancers`."""
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        raise MalformedRecord("malformed load balancer record")
    st = _statuses(raw)
    return LoadBalancer(
        id=_str(raw["id"]), name=_str(raw.get("name")),
        project_id=_str(raw.get("project_id") or raw.get("tenant_id")),
        provisioning_status=st["provisioning_status"], operating_status=st["operating_status"],
        admin_state_up=_admin(raw), vip_address=_str(raw.get("vip_address")),
        vip_subnet_id=_opt_str(raw.get("vip_subnet_id")), vip_network_id=_opt_str(raw.get("vip_network_id")),
        vip_port_id=_opt_str(raw.get("vip_port_id")), provider=_str(raw.get("provider")),
        created=parse_time(raw.get("created_at")), updated=parse_time(raw.get("updated_at")),
        missing=st["missing"] + _problems(_checked(raw, "admin_state_up", "admin_state_up", required=False,
                                                   kind=bool)),
    )


def _admin(raw: dict) -> bool | None:
    value = raw.get("admin_state_up", True)
    return value if isinstance(value, bool) else None


def status_tree(lb: LoadBalancer, tree: dict) -> None:
    """Fill `lb`'s listeners, pools and members from its status tree (statuses.loadbalancer); the tree's
    own statuses of the load balancer are newer than the list's and replace them."""
    if tree.get("provisioning_status") or tree.get("operating_status"):
        st = _statuses(tree)
        lb.provisioning_status, lb.operating_status = st["provisioning_status"], st["operating_status"]
        lb.missing = tuple(m for m in lb.missing if "status" not in m) + st["missing"]
    pools: dict[str, Pool] = {}
    listeners = []
    for lraw in tree.get("listeners") or ():
        if not isinstance(lraw, dict) or not lraw.get("id"):
            raise MalformedRecord("malformed listener in the status tree")
        ids = []
        for praw in lraw.get("pools") or ():
            pool = _pool(praw)
            ids.append(pool.id)
            pools.setdefault(pool.id, pool)
        st = _statuses(lraw)
        listeners.append(Listener(id=_str(lraw["id"]), name=_str(lraw.get("name")),
                                  provisioning_status=st["provisioning_status"],
                                  operating_status=st["operating_status"], pool_ids=tuple(ids),
                                  missing=st["missing"]))
    for praw in tree.get("pools") or ():  # pools of no listener, where Octavia lists them
        pool = _pool(praw)
        pools.setdefault(pool.id, pool)
    lb.listeners, lb.pools = listeners, list(pools.values())


def _pool(praw: Any) -> Pool:
    if not isinstance(praw, dict) or not praw.get("id"):
        raise MalformedRecord("malformed pool in the status tree")
    members = []
    for mraw in praw.get("members") or ():
        if not isinstance(mraw, dict) or not mraw.get("id"):
            raise MalformedRecord("malformed member in the status tree")
        st = _statuses(mraw)
        port = mraw.get("protocol_port")
        members.append(LbMember(id=_str(mraw["id"]), name=_str(mraw.get("name")),
                                address=_str(mraw.get("address")),
                                protocol_port=port if isinstance(port, int) and not isinstance(port, bool)
                                else None,
                                provisioning_status=st["provisioning_status"],
                                operating_status=st["operating_status"], missing=st["missing"]))
    st = _statuses(praw)
    hm = praw.get("health_monitor")
    return Pool(id=_str(praw["id"]), name=_str(praw.get("name")),
                provisioning_status=st["provisioning_status"], operating_status=st["operating_status"],
                health_monitor=bool(hm) if "health_monitor" in praw else None, members=members,
                missing=st["missing"])


def _add_member_fields(m: LbMember, raw: dict | None) -> None:
    """The fields of a member's record in its pool's members list (subnet, admin state)."""
    if raw is None:
        m.missing = m.missing + ("member not in its pool's members list",)
        return
    m.subnet_id = _opt_str(raw.get("subnet_id"))
    m.admin_state_up = _admin(raw)
    m.address = m.address or _str(raw.get("address"))
    if m.protocol_port is None and isinstance(raw.get("protocol_port"), int):
        m.protocol_port = raw["protocol_port"]
    m.missing = m.missing + _problems(_checked(raw, "admin_state_up", "admin_state_up", required=False,
                                               kind=bool))


def join_members(inv: Inventory) -> int:
    """Set each member's `server_id` from the Neutron port holding its address on its subnet (a member
    without a subnet: on the load balancer's VIP subnet, Octavia's default). Returns how many did not join."""
    by_fixed: dict[tuple[str, str], set[str]] = {}
    for p in inv.ports:
        device = getattr(p, "device_id", None)
        for ip in getattr(p, "fixed_ips", None) or ():
            subnet, address = _fixed(ip)
            if subnet and address:
                by_fixed.setdefault((subnet, address), set()).add(device or "")
    servers = {s.id for s in inv.servers}
    unjoined = 0
    for lb in inv.load_balancers:
        for m in lb.members:
            subnet = m.subnet_id or lb.vip_subnet_id
            devices = by_fixed.get((subnet or "", m.address), set())
            only = next(iter(devices)) if len(devices) == 1 else None
            m.server_id = only if only in servers else None
            unjoined += m.server_id is None
    return unjoined


def _fixed(ip: Any) -> tuple[str | None, str | None]:
    """(subnet_id, ip_address) of one of a port's fixed IPs (model.FixedIP)."""
    return getattr(ip, "subnet_id", None), getattr(ip, "ip_address", None)
