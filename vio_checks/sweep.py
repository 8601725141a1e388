"""One discovery sweep: every list the checks need, as paged JSON, normalised into an Inventory.

The number of requests grows with pages, with the deployment's L3 agents and endpoints and with the
HA routers (one request each for their ha_state), never with the number of VMs, volumes, ports or
other routers; plus, when lists came back shorter than the last sweep's, at most
visibility.MAX_CONFIRM direct GETs that confirm deletions (see visibility.py), and one for Neutron's
extensions. Big lists are read as raw JSON pages through the SDK's service adapters: building SDK resource
objects costs milliseconds each, far too slow at 10,000 VMs.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from vio_checks import normalize
from vio_checks.certificates import add_vcenter
from vio_checks.errors import SweepError
from vio_checks.model import KINDS, VSPHERE_KINDS, Inventory, Meta, Router, routers_by_network
from vio_checks.optional_sweep import keep_last_known, sweep_optional
from vio_checks.probes import probe_all

log = logging.getLogger(__name__)
#: One line per HTTP request of the sweep (method, path, status, ms): the checks' and vio-discover's -vvv.
http_log = logging.getLogger("vio_checks.http")
#: Query parameters whose values never reach a log line (none of the APIs we call has one; a proxy might).
SECRET_PARAMS = ("token", "password", "secret", "signature", "credential", "api_key", "apikey")

#: Highest compute microversion that still reports hypervisor usage (2.88 drops it).
PREFERRED_COMPUTE_MICROVERSION = (2, 87)
DEFAULT_PAGE_SIZE = 1000
DEFAULT_MIGRATIONS_WINDOW = 86400.0


def _collect(pages: Iterable[list[dict]], convert: Callable[[Any], Any], what: str) -> list:
    out = []
    for page in pages:
        for raw in page:
            try:
                out.append(convert(raw))
            except normalize.MalformedRecord as e:
                raise SweepError(f"{what}: {e}") from None
    return out


def _mv(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def negotiate_compute_microversion(server_max: tuple[int, int] | None) -> tuple[int, int]:
    """The compute microversion to ask for: 2.87 when the cloud has it, else its own maximum."""
    if not server_max:
        return (2, 1)
    return min(PREFERRED_COMPUTE_MICROVERSION, server_max)


def sweep(
    client: Any,
    cloud: str,
    region: str | None,
    page_size: int = DEFAULT_PAGE_SIZE,
    migrations_window: float = DEFAULT_MIGRATIONS_WINDOW,
) -> Inventory:
    """Run one sweep through a CloudClient and return the normalised inventory."""
    started = time.monotonic()
    fetched_at = time.time()
    if http_log.isEnabledFor(logging.DEBUG):
        time_requests(client)
    inv = Inventory(meta=Meta(cloud=cloud, region=region, fetched_at=fetched_at, seconds=0.0, requests=0))

    compute = client.adapter("compute")
    version = negotiate_compute_microversion(client.endpoint_max_microversion(compute))
    mv = _mv(version)
    inv.meta.compute_microversion = mv
    limit = {"limit": page_size}

    inv.hypervisors = _collect(
        client.pages(compute, "/os-hypervisors/detail", "hypervisors",
                     limit if version >= (2, 33) else {}, mv),
        normalize.hypervisor, "nova hypervisors",
    )
    inv.servers = _collect(
        client.pages(compute, "/servers/detail", "servers", {"all_tenants": "True", **limit}, mv),
        normalize.server, "nova servers",
    )
    inv.compute_services = _collect(
        client.pages(compute, "/os-services", "services", {}, mv),
        lambda r: normalize.service(r, "nova"), "nova services",
    )
    inv.migrations = _migrations(client, compute, version, page_size, fetched_at - migrations_window)

    volume = client.adapter("block_storage")
    inv.volumes = _collect(
        client.pages(volume, "/volumes/detail", "volumes", {"all_tenants": "True", **limit}),
        normalize.volume, "cinder volumes",
    )
    inv.volume_services = _collect(
        client.pages(volume, "/os-services", "services", {}),
        lambda r: normalize.service(r, "cinder"), "cinder services",
    )

    network = client.adapter("network")
    inv.networks = _collect(
        client.pages(network, "/networks", "networks", limit), normalize.network, "networks"
    )
    inv.ports = _collect(client.pages(network, "/ports", "ports", limit), normalize.port, "neutron ports")
    inv.routers = _collect(client.pages(network, "/routers", "routers", limit), normalize.router, "routers")
    # Whether the cloud runs Neutron agents is what Neutron announces, not what one agents list holds.
    inv.meta.neutron_agents = _has_agent_extension(client, network)
    # Neutron without the agent extension (NSX plugins) answers 404: no agents to judge.
    inv.agents = _collect(
        client.pages(network, "/agents", "agents", limit, missing_ok=True), normalize.agent, "neutron agents"
    )
    _link_routers(client, network, inv)

    inv.projects = _projects(client)
    endpoints = _unique_endpoints(client.public_endpoints())
    probed = probe_all(client, [url for _, url, _ in endpoints])
    inv.endpoints = [normalize.endpoint(stype, url, reg, probed[url]) for stype, url, reg in endpoints]
    sweep_optional(client, inv, page_size)

    client.save_auth_state()
    inv.meta.seconds = round(time.monotonic() - started, 3)
    inv.meta.requests = client.requests
    inv.meta.counts = {kind: len(inv.of_kind(kind)) for kind in KINDS if kind not in VSPHERE_KINDS}
    return inv


#: The share of what is left of -t that the vCenter sweep keeps for itself when the layer is configured.
VSPHERE_SHARE = 0.3
#: How long past its deadline a sweep may still run (the requests' own timeouts end it first) before its
#: guard ends it; well within the commands' own alarms (open_inventory.GRACE, the checks' margin).
OVERRUN_GRACE = 0.3


def run(args: Any, auth_state_file: Any, deadline: float, previous: Any = None) -> Inventory:
    """The sweep the options ask for: the OpenStack part, then vCenter's when the vSphere layer is
    configured (--vcenter-credentials FILE, else a `vsphere:` mapping in the cloud's clouds.yaml entry),
    then, against `previous` (the snapshot it replaces), what its shorter lists mean (visibility.py).

    Without the layer configured this is `sweep` alone, and pyVmomi is never imported.
    """
    from vio_checks.cloud import CloudClient
    from vio_checks.runtime import guard_timeout

    clients: list = []

    def overrun() -> SweepError:
        return SweepError(clients[0].overrun() if clients else
                          "timed out: the sweep's budget ran out while connecting (reading the cloud's "
                          "configuration)")

    # Timeouts bound each wait on a socket, not a reply that trickles in or a lock that never comes: a
    # sweep still running past its budget is a failed sweep like any other (freshness.py records it).
    with guard_timeout(deadline - time.monotonic() + OVERRUN_GRACE, overrun):
        client = CloudClient(args.os_cloud, args.os_region_name, deadline, auth_state_file=auth_state_file)
        clients.append(client)
        path = getattr(args, "vcenter_credentials", None)
        mapping = None if path else (getattr(client.conn.config, "config", None) or {}).get("vsphere")
        configured = bool(path) or mapping is not None
        if configured:
            client.deadline = time.monotonic() + (deadline - time.monotonic()) * (1 - VSPHERE_SHARE)
        inv = sweep(client, args.os_cloud or "envvars", args.os_region_name,
                    page_size=getattr(args, "page_size", DEFAULT_PAGE_SIZE))
        if configured:
            add_vsphere(inv, path, mapping, args.os_cloud or "envvars", deadline)
        keep_last_known(previous, inv)
        if previous is not None and not getattr(args, "accept_empty", False):
            confirm_deletions(client, previous, inv)
    return inv


#: kind → (service adapter, path of one object, reply key) of the direct GET that confirms a deletion
#: (404). Services have no GET of their own: their list filtered by binary and host answers instead.
CONFIRM_PATHS = {
    "hypervisors": ("compute", "/os-hypervisors/{id}", "hypervisor"),
    "servers": ("compute", "/servers/{id}", "server"),
    "compute_services": ("compute", "/os-services?binary={binary}&host={host}", "services"),
    "volumes": ("block_storage", "/volumes/{id}", "volume"),
    "volume_services": ("block_storage", "/os-services?binary={binary}&host={host}", "services"),
    "ports": ("network", "/ports/{id}", "port"),
    "networks": ("network", "/networks/{id}", "network"),
    "routers": ("network", "/routers/{id}", "router"),
    "agents": ("network", "/agents/{id}", "agent"),
}


def confirm_deletions(client: Any, previous: Any, inv: Inventory) -> None:
    """Keep what `inv`'s lists left out of `previous` unless it is confirmed deleted (visibility.py), with
    the direct GETs counted in the sweep's requests. A sweep that empties a kind is left as it is: it is
    not stored at all (freshness.py)."""
    from vio_checks import visibility

    if visibility.emptied(previous.meta, inv):
        return
    mv = inv.meta.compute_microversion

    def confirm(kind: str, obj: Any) -> bool | None:
        service, path, key = CONFIRM_PATHS[kind]
        quote = urllib.parse.quote
        url = path.format(id=quote(str(obj.id), safe=""),
                          binary=quote(str(getattr(obj, "binary", "")), safe=""),
                          host=quote(str(getattr(obj, "host", "")), safe=""))
        try:
            adapter = client.adapter(service)
            body = client.get_json(adapter, url, microversion=mv if service == "compute" else None,
                                   missing_ok=True)
        except SweepError as e:
            log.info("cannot confirm that %s %s is deleted: %s", kind, obj.id, e)
            return None
        if body is None:
            return True  # 404
        found = body.get(key)
        if isinstance(found, list):  # a filtered services list (Cinder's has no ids): gone when it lacks it
            return not any(isinstance(r, dict) and r.get("binary") == obj.binary and r.get("host") == obj.host
                           for r in found)
        return False

    visibility.reconcile(previous, inv, confirm)
    inv.meta.requests = client.requests


def _has_agent_extension(client: Any, network: Any) -> bool | None:
    """Whether Neutron announces the `agent` extension (GET /v2.0/extensions); None when it does not say."""
    try:
        body = client.get_json(network, "/extensions", missing_ok=True)
    except SweepError as e:
        log.info("cannot read Neutron's extensions: %s", e)
        return None
    found = (body or {}).get("extensions")
    if not isinstance(found, list):
        return None
    return any(isinstance(e, dict) and e.get("alias") == "agent" for e in found)


def add_vsphere(inv: Inventory, path: str | None, mapping: Any, cloud: str, deadline: float) -> None:
    """Sweep vCenter into `inv` within the deadline; a failure is stored as `inv.meta.vsphere.error`, never
    raised (the OpenStack part stands)."""
    from vio_checks.vsphere import UNAVAILABLE, VSphereError
    from vio_checks.vsphere.connect import Credentials, describe, load_credentials
    from vio_checks.vsphere.records import VSphereMeta

    started = time.monotonic()
    secret, creds = "", None
    try:
        creds = (load_credentials(path) if path
                 else Credentials.from_mapping(mapping, f"clouds.yaml cloud {cloud}"))
        secret = creds.password
        budget = deadline - time.monotonic()
        if budget < 1.0:
            raise VSphereError("no time left of -t for the vCenter sweep")
        from vio_checks.vsphere.sweep import collect  # only now: pyVmomi

        vs = collect(creds, budget)
    except Exception as e:  # VSphereError, or anything else: the OpenStack part must stand
        why = str(e) if isinstance(e, VSphereError) else f"{type(e).__name__}: {describe(e, secret)}"
        log.warning("%s: %s", UNAVAILABLE, why)
        inv.meta.vsphere = VSphereMeta(error=f"{UNAVAILABLE}: {why}",
                                       seconds=round(time.monotonic() - started, 3))
        return
    finally:  # vCenter's certificate, read also (above all) when the vCenter sweep failed
        add_vcenter(inv, creds, deadline)
    apply_vsphere(inv, vs)


def apply_vsphere(inv: Inventory, vs: Any) -> None:
    """Join a VSphereInventory to the OpenStack part of `inv` and add its records (pure).

    Every cluster, ESXi host and datastore is kept (with the Nova hypervisor of its cluster when it has one,
    and the Cinder volumes whose shadow VM it holds); of the VMs only those that are Nova servers: the others
    (VIO's own, other VMs) are counted, the volumes' shadow VMs are told by their datastore's `volumes`.
    """
    from vio_checks.vsphere.join import join
    from vio_checks.vsphere.records import VSphereMeta

    j = join(vs, inv.hypervisors, inv.servers, inv.volumes)
    hv_of_cluster = {c: hv for hv, c in j.cluster_of_hypervisor.items()}
    server_of_vm = {vm: s for s, vm in j.vm_of_server.items()}
    alarms: dict[str, list] = {}
    for a in sorted(vs.alarms, key=lambda a: (a.status != "red", a.name or a.alarm)):
        alarms.setdefault(a.entity, []).append(a.name or a.alarm)
    for c in vs.clusters:
        c.hypervisor = hv_of_cluster.get(c.moref)
    for h in vs.hosts:
        h.hypervisor = hv_of_cluster.get(h.cluster or "")
        h.alarms = alarms.get(h.moref, [])
    volumes_of: dict[str, list[str]] = {}
    for vol, ds in sorted(j.volume_datastore.items()):
        volumes_of.setdefault(ds, []).append(vol)
    for d in vs.datastores:
        d.alarms = alarms.get(d.moref, [])
        d.volumes = volumes_of.get(d.moref, [])
    for v in vs.vms:
        v.server_id = server_of_vm.get(v.moref)
    inv.vsphere_clusters, inv.esxi_hosts, inv.datastores = vs.clusters, vs.hosts, vs.datastores
    inv.vsphere_vms = [v for v in vs.vms if v.server_id]
    inv.vsphere_alarms = vs.alarms
    unjoined = {"vms": j.unjoined_vms, "ambiguous_vms": j.ambiguous_vms,
                "servers_without_vm": len(j.servers_without_vm), "unknown_clusters": len(j.unknown_clusters),
                "misplaced": len(j.misplaced), "volumes_without_backing": len(j.volumes_without_backing),
                "ambiguous_backings": len(j.ambiguous_backings)}
    inv.meta.vsphere = VSphereMeta(vs.vcenter, None, round(vs.seconds, 3), vs.requests,
                                   {k: n for k, n in unjoined.items() if n})
    inv.meta.counts.update({kind: len(inv.of_kind(kind)) for kind in VSPHERE_KINDS})


def _migrations(client: Any, compute: Any, version: tuple[int, int], page_size: int, since: float) -> list:
    """Migrations updated since `since`: paged and filtered server-side from 2.59, client-side before."""
    if version >= (2, 59):
        stamp = dt.datetime.fromtimestamp(since, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"changes-since": stamp, "limit": page_size}
    else:
        params = {}
    found = _collect(client.pages(compute, "/os-migrations", "migrations", params, _mv(version)),
                     normalize.migration, "nova migrations")
    return [m for m in found if (m.updated or m.created or 0) >= since]


def _link_routers(client: Any, network: Any, inv: Inventory) -> None:
    """Fill each router's networks, hosting L3 agents (asked per agent) and, for HA routers, ha_states.

    `ha_state` is only in the per-router reply (`/routers/{id}/l3-agents`), so HA routers hosted by an L3
    agent cost one request each; no other router does.
    """
    by_id = {r.id: r for r in inv.routers}
    for net, router_ids in routers_by_network(inv.routers, inv.ports).items():
        for router_id in router_ids:
            router = by_id.get(router_id)
            if router and net not in router.network_ids:
                router.network_ids.append(net)
    for agent in inv.agents:
        if not agent.is_l3:
            continue
        hosted = _collect(
            client.pages(network, f"/agents/{agent.id}/l3-routers", "routers", {}),
            lambda r: normalize.router(r).id, "l3 agent routers",
        )
        for router_id in hosted:
            router = by_id.get(router_id)
            if router and agent.id not in router.agent_ids:
                router.agent_ids.append(agent.id)
    for router in inv.routers:
        if router.ha and router.agent_ids:
            _read_ha_states(client, network, router)
        router.network_ids.sort()
        router.agent_ids.sort()


def _read_ha_states(client: Any, network: Any, router: Router) -> None:
    """One HA router's ha_state per hosting agent (a router deleted meanwhile answers 404: none)."""
    found = _collect(
        client.pages(network, f"/routers/{router.id}/l3-agents", "agents", {}, missing_ok=True),
        normalize.router_ha_state, "router l3 agents",
    )
    for agent_id, state in found:
        if agent_id not in router.agent_ids:
            router.agent_ids.append(agent_id)
        if state:
            router.ha_states[agent_id] = state


def _projects(client: Any) -> list:
    """Project names are a nicety: a cloud that does not let us list projects still sweeps."""
    identity = client.adapter("identity")
    try:
        return _collect(client.pages(identity, "/projects", "projects", {}), normalize.project, "projects")
    except SweepError as e:
        if "403" in str(e):
            log.info("cannot list projects: %s", e)
            return []
        raise


def _unique_endpoints(endpoints: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    seen: dict[str, tuple[str, str, str | None]] = {}
    for stype, url, region in sorted(endpoints, key=lambda e: (e[0], e[1], e[2] or "")):
        seen.setdefault(url, (stype, url, region))
    return sorted(seen.values(), key=lambda e: (e[0], e[1]))


def time_requests(client: Any) -> None:
    """Log each HTTP request the client sends (authentication and version discovery included) with its
    status and duration, body read included: `GET /compute/v2.1/servers/detail?limit=1000 200 12 ms`.

    Only the method, path and query go to the log: headers and bodies (where tokens and passwords are)
    never do, and the values of query parameters with secret-looking names are masked.
    """
    http = getattr(getattr(getattr(client, "session", None), "session", None), "request", None)
    if http is None:
        return
    import urllib.parse

    from vio_checks.text import inert

    def where(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        query = "&".join(
            f"{k}={'***' if any(s in k.lower() for s in SECRET_PARAMS) else v}"
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        return inert(parts.path + (f"?{query}" if query else ""), 300)

    def timed(method: str, url: str, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            response = http(method, url, **kwargs)
        except Exception as e:
            ms = (time.monotonic() - start) * 1000
            http_log.debug("request %s %s failed after %.0f ms: %s", method, where(url), ms, type(e).__name__)
            raise
        ms = (time.monotonic() - start) * 1000
        http_log.debug("request %s %s %s %.0f ms", method, where(url), response.status_code, ms)
        return response

    client.session.session.request = timed
