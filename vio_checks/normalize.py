"""API JSON → model: one function per kind. Pure functions, tolerant of missing fields.

A field a judgement needs (a server's status, a hypervisor's state, ...) that the reply lacks (absent, null
or empty) is named in the record's `missing`, so "not reported" stays distinguishable from a real value
and the record is judged unverified instead of healthy (model.unreported). So is, as a phrase naming the
value, a judged field of the wrong type (a list or a number where a string belongs, a string where a
boolean does) or with a value the API does not document (vio_checks.documented): this is the one place
that checks them, so no judge ever reads an unknown state as a healthy one.

A record not shaped as documented (not an object, no id, a nested part of the wrong type) raises
MalformedRecord naming the kind, so a broken reply fails the sweep with a clear message instead of storing
nonsense.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container
from typing import Any

from vio_checks import documented as doc
from vio_checks import redact
from vio_checks.model import (
    Address,
    Agent,
    Attachment,
    Endpoint,
    FixedIP,
    Hypervisor,
    Migration,
    Network,
    Port,
    Project,
    Router,
    Server,
    Service,
    Volume,
)
from vio_checks.text import inert


class MalformedRecord(ValueError):
    """A record in an API reply is not shaped as documented."""


def parse_time(value: Any) -> float | None:
    """Parse the API's timestamp forms (ISO 8601 with or without zone, `YYYY-MM-DD HH:MM:SS`) as UTC."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "up")
    return bool(value)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else _bool(value)


def _a(value: Any) -> str:
    """`a list`, `a number`, ...: what a JSON value is, for a field of the wrong type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return {list: "a list", dict: "an object"}.get(type(value), f"a {type(value).__name__}")


def _shown(value: Any) -> str:
    """A reply's value as it reads in plugin output: inert, bounded, strings quoted."""
    return repr(inert(value, 40)) if isinstance(value, str) else inert(repr(value), 60)


def _enum(value: Any) -> str:
    """A string field's text; "" for a value of the wrong type (named in `missing` by `_checked`)."""
    return value.strip() if isinstance(value, str) else ""


_BOOL_TEXT = {"true": True, "1": True, "yes": True, "up": True, "false": False, "0": False, "no": False,
              "down": False}


def _checked(r: dict, name: str, key: str, known: Container[str] | Callable[[str], bool] | None = None,
             case: Callable[[str], str] = str.lower, required: bool = True, kind: type = str) -> str | None:
    """Why field `key` of reply `r` (the model's `name`) cannot be judged, as an entry of `missing`, or None.

    Absent, null or empty: `name` (when `required`); of another type than `kind` (a bool field also takes
    the strings _bool reads, an int field no bool): `status as a list: ['ACTIVE']`; a string not in
    `known` (after `case`): `an undocumented status 'SHINY'`.
    """
    value = r.get(key)
    if value is None or value == "":
        return name if required else None
    if kind is bool:
        ok = isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOL_TEXT)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        return f"{name} as {_a(value)}: {_shown(value)}"
    if known is not None:
        text = case(value.strip())
        if not (known(text) if callable(known) else text in known):
            return f"an undocumented {name} {_shown(value)}"
    return None


def _problems(*entries: str | None) -> tuple[str, ...]:
    return tuple(e for e in entries if e)


def _record(kind: str, raw: Any) -> dict:
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        raise MalformedRecord(f"malformed {kind} record")
    return raw


def hypervisor(raw: Any) -> Hypervisor:
    r = _record("hypervisor", raw)
    svc = r.get("service") or {}
    if not isinstance(svc, dict):
        raise MalformedRecord("malformed hypervisor record (service)")
    return Hypervisor(
        id=_str(r["id"]),
        hostname=_str(r.get("hypervisor_hostname")),
        type=_str(r.get("hypervisor_type")),
        state=_enum(r.get("state")).lower(),
        status=_enum(r.get("status")).lower(),
        service_host=_str(svc.get("host")),
        service_id=_str(svc.get("id")),
        disabled_reason=_opt_str(svc.get("disabled_reason")),
        host_ip=_opt_str(r.get("host_ip")),
        vcpus=_int(r.get("vcpus")),
        vcpus_used=_int(r.get("vcpus_used")),
        memory_mb=_int(r.get("memory_mb")),
        memory_mb_used=_int(r.get("memory_mb_used")),
        local_gb=_int(r.get("local_gb")),
        local_gb_used=_int(r.get("local_gb_used")),
        running_vms=_int(r.get("running_vms")),
        missing=_problems(_checked(r, "state", "state", doc.UP_DOWN),
                          _checked(r, "status", "status", doc.ENABLED_DISABLED)),
    )


def _addresses(raw: Any) -> list[Address]:
    out = []
    if not isinstance(raw, dict):
        return out
    for net, addrs in sorted(raw.items()):
        for a in addrs if isinstance(addrs, list) else []:
            if isinstance(a, dict) and a.get("addr"):
                out.append(Address(
                    network=str(net), addr=str(a["addr"]), kind=_str(a.get("OS-EXT-IPS:type") or "fixed"),
                    version=_int(a.get("version")) or 4, mac=_opt_str(a.get("OS-EXT-IPS-MAC:mac_addr")),
                ))
    return out


def server(raw: Any) -> Server:
    r = _record("server", raw)
    flavor = r.get("flavor") if isinstance(r.get("flavor"), dict) else {}
    fault = r.get("fault") if isinstance(r.get("fault"), dict) else {}
    metadata = r.get("metadata") if isinstance(r.get("metadata"), dict) else {}
    return Server(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("tenant_id") or r.get("project_id")),
        status=_enum(r.get("status")).upper(),
        task_state=_enum(r.get("OS-EXT-STS:task_state")) or None,
        vm_state=_opt_str(r.get("OS-EXT-STS:vm_state")),
        power_state=_int(r.get("OS-EXT-STS:power_state")),
        host=_opt_str(r.get("OS-EXT-SRV-ATTR:host")),
        hypervisor_hostname=_opt_str(r.get("OS-EXT-SRV-ATTR:hypervisor_hostname")),
        host_status=_enum(r.get("host_status")) or None,
        created=parse_time(r.get("created")),
        updated=parse_time(r.get("updated")),
        launched_at=parse_time(r.get("OS-SRV-USG:launched_at")),
        flavor=_opt_str(flavor.get("original_name") or flavor.get("name") or flavor.get("id")),
        flavor_vcpus=_int(flavor.get("vcpus")),
        flavor_ram_mb=_int(flavor.get("ram")),
        fault_message=_opt_str(fault.get("message")),
        fault_code=_int(fault.get("code")),
        availability_zone=_opt_str(r.get("OS-EXT-AZ:availability_zone")),
        addresses=_addresses(r.get("addresses")),
        metadata={str(k): _str(v) for k, v in metadata.items()},
        missing=_problems(
            _checked(r, "status", "status", doc.SERVER_STATUSES, str.upper),
            _checked(r, "task_state", "OS-EXT-STS:task_state", required=False),
            _checked(r, "power_state", "OS-EXT-STS:power_state", required=False, kind=int),
            _checked(r, "host_status", "host_status", doc.HOST_STATUSES, str.upper, required=False),
        ),
    )


def service(raw: Any, component: str) -> Service:
    if isinstance(raw, dict) and raw.get("id") in (None, "") and raw.get("binary") and raw.get("host"):
        raw = {**raw, "id": f"{raw['binary']}@{raw['host']}"}  # Cinder's os-services has no ids
    r = _record(f"{component} service", raw)
    return Service(
        id=_str(r["id"]),
        component=component,
        binary=_str(r.get("binary")),
        host=_str(r.get("host")),
        zone=_opt_str(r.get("zone")),
        status=_enum(r.get("status")).lower(),
        state=_enum(r.get("state")).lower(),
        updated=parse_time(r.get("updated_at")),
        disabled_reason=_opt_str(r.get("disabled_reason")),
        forced_down=_bool(r.get("forced_down")),
        missing=_problems(_checked(r, "status", "status", doc.ENABLED_DISABLED),
                          _checked(r, "state", "state", doc.UP_DOWN),
                          _checked(r, "forced_down", "forced_down", required=False, kind=bool)),
    )


def migration(raw: Any) -> Migration:
    r = _record("migration", raw)
    return Migration(
        id=_str(r["id"]),
        server_id=_str(r.get("instance_uuid")),
        migration_type=_str(r.get("migration_type")),
        status=_str(r.get("status")).lower(),
        source_compute=_opt_str(r.get("source_compute")),
        dest_compute=_opt_str(r.get("dest_compute")),
        source_node=_opt_str(r.get("source_node")),
        dest_node=_opt_str(r.get("dest_node")),
        created=parse_time(r.get("created_at")),
        updated=parse_time(r.get("updated_at")),
        uuid=_opt_str(r.get("uuid")),
    )


def volume(raw: Any) -> Volume:
    r = _record("volume", raw)
    attachments = []
    for a in r.get("attachments") or []:
        if isinstance(a, dict) and a.get("server_id"):
            attachments.append(Attachment(
                server_id=str(a["server_id"]), device=_opt_str(a.get("device")),
                attachment_id=_opt_str(a.get("attachment_id")), host=_opt_str(a.get("host_name")),
            ))
    return Volume(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("os-vol-tenant-attr:tenant_id") or r.get("project_id")),
        status=_enum(r.get("status")).lower(),
        size_gb=_int(r.get("size")) or 0,
        backend_host=_opt_str(r.get("os-vol-host-attr:host")),
        volume_type=_opt_str(r.get("volume_type")),
        bootable=_bool(r.get("bootable")),
        created=parse_time(r.get("created_at")),
        updated=parse_time(r.get("updated_at")),
        attachments=attachments,
        missing=_problems(_checked(r, "status", "status", doc.volume_status_known)),
    )


def port(raw: Any) -> Port:
    r = _record("port", raw)
    fixed = [
        FixedIP(ip_address=_str(f.get("ip_address")), subnet_id=_opt_str(f.get("subnet_id")))
        for f in r.get("fixed_ips") or [] if isinstance(f, dict)
    ]
    return Port(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("project_id") or r.get("tenant_id")),
        network_id=_str(r.get("network_id")),
        device_id=_str(r.get("device_id")),
        device_owner=_str(r.get("device_owner")),
        status=_enum(r.get("status")).upper(),
        admin_state_up=_bool(r.get("admin_state_up", True)),
        binding_host=_opt_str(r.get("binding:host_id")),
        vif_type=_opt_str(r.get("binding:vif_type")),
        mac_address=_opt_str(r.get("mac_address")),
        fixed_ips=fixed,
        created=parse_time(r.get("created_at")),
        updated=parse_time(r.get("updated_at")),
        missing=_problems(_checked(r, "status", "status", doc.PORT_STATUSES, str.upper),
                          _checked(r, "admin_state_up", "admin_state_up", required=False, kind=bool),
                          _checked(r, "vif_type", "binding:vif_type", required=False)),
    )


def network(raw: Any) -> Network:
    r = _record("network", raw)
    return Network(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("project_id") or r.get("tenant_id")),
        status=_str(r.get("status")).upper(),
        admin_state_up=_bool(r.get("admin_state_up", True)),
        shared=_bool(r.get("shared")),
        external=_bool(r.get("router:external")),
        subnets=[str(s) for s in r.get("subnets") or []],
    )


def router(raw: Any) -> Router:
    r = _record("router", raw)
    gw = r.get("external_gateway_info") if isinstance(r.get("external_gateway_info"), dict) else {}
    return Router(
        id=_str(r["id"]),
        name=_str(r.get("name")),
        project_id=_str(r.get("project_id") or r.get("tenant_id")),
        status=_enum(r.get("status")).upper(),
        admin_state_up=_bool(r.get("admin_state_up", True)),
        ha=_opt_bool(r.get("ha")),
        distributed=_opt_bool(r.get("distributed")),
        external_network_id=_opt_str(gw.get("network_id")),
        missing=_problems(_checked(r, "status", "status", doc.ROUTER_STATUSES, str.upper),
                          _checked(r, "admin_state_up", "admin_state_up", required=False, kind=bool),
                          _checked(r, "ha", "ha", required=False, kind=bool),
                          _checked(r, "distributed", "distributed", required=False, kind=bool)),
    )


def router_ha_state(raw: Any) -> tuple[str, str | None]:
    """(agent id, ha_state) of one agent in a `GET /v2.0/routers/{id}/l3-agents` reply.

    Neutron adds `ha_state` (active / standby / unknown) only for HA routers; None when absent.
    """
    r = _record("router l3 agent", raw)
    state = r.get("ha_state")
    if state is not None and not isinstance(state, str):
        raise MalformedRecord("malformed router l3 agent record (ha_state)")
    return _str(r["id"]), (state.strip().lower() or None) if state is not None else None


def agent(raw: Any) -> Agent:
    r = _record("agent", raw)
    return Agent(
        id=_str(r["id"]),
        binary=_str(r.get("binary")),
        agent_type=_str(r.get("agent_type")),
        host=_str(r.get("host")),
        alive=_bool(r.get("alive")),
        admin_state_up=_bool(r.get("admin_state_up", True)),
        heartbeat=parse_time(r.get("heartbeat_timestamp")),
        availability_zone=_opt_str(r.get("availability_zone")),
        created=parse_time(r.get("created_at")),
        missing=_problems(_checked(r, "alive", "alive", kind=bool),
                          _checked(r, "admin_state_up", "admin_state_up", kind=bool)),
    )


def project(raw: Any) -> Project:
    r = _record("project", raw)
    return Project(
        id=_str(r["id"]), name=_str(r.get("name")), domain_id=_opt_str(r.get("domain_id")),
        enabled=_bool(r.get("enabled", True)),
    )


def endpoint(service_type: str, url: str, region: str | None, probe: tuple) -> Endpoint:
    ok, status, latency, error = probe
    return Endpoint(  # a catalog URL may carry user-info: it is never stored nor shown
        service_type=service_type, url=redact.url(url), region=region, ok=ok, status_code=status,
        latency=round(latency, 4), error=None if error is None else redact.text(error),
    )
