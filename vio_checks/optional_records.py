"""Plain records of the optional services (optional_sweep.py), in the style of `vio_checks.model`.

Load balancers (Octavia), images (Glance), stacks (Heat) and the certificates of the catalog's https
endpoints. Status strings are kept as the API gave them (upper case for Octavia and Heat, lower case for
Glance); a field the reply did not carry is None (or "") and named in the record's `missing`, so the record
cannot be judged OK (model.unreported). Timestamps are POSIX seconds (UTC) or None.
"""

from __future__ import annotations

from vio_checks.model import Record


class LbMember(Record):
    """One member of a pool: an address (and the subnet it is on) and a port, not a server.

    `server_id` is set by the join (the Nova server whose Neutron port holds `address` on `subnet_id`);
    None when nothing joins it (counted, never guessed)."""

    def __init__(self, id: str, name: str = "", address: str = "", protocol_port: int | None = None,
                 subnet_id: str | None = None, provisioning_status: str = "", operating_status: str = "",
                 admin_state_up: bool | None = True, missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.address = address
        self.protocol_port = protocol_port
        self.subnet_id = subnet_id
        self.provisioning_status = provisioning_status
        self.operating_status = operating_status
        self.admin_state_up = admin_state_up
        self.missing = missing
        self.server_id: str | None = None  # set by the join


class Pool(Record):
    """A pool of a load balancer, with its members (each member listed once, under its one pool)."""

    def __init__(self, id: str, name: str = "", provisioning_status: str = "", operating_status: str = "",
                 health_monitor: bool | None = None, members: list[LbMember] | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.provisioning_status = provisioning_status
        self.operating_status = operating_status
        self.health_monitor = health_monitor  # None: not reported
        self.members = [] if members is None else members
        self.missing = missing


class Listener(Record):
    """A listener of a load balancer; `pool_ids` names the pools it sends to (pools are the balancer's)."""

    def __init__(self, id: str, name: str = "", protocol: str = "", protocol_port: int | None = None,
                 provisioning_status: str = "", operating_status: str = "",
                 pool_ids: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.protocol = protocol
        self.protocol_port = protocol_port
        self.provisioning_status = provisioning_status
        self.operating_status = operating_status
        self.pool_ids = pool_ids
        self.missing = missing


class LoadBalancer(Record):
    """An Octavia load balancer with its status tree (listeners, pools, members)."""

    def __init__(self, id: str, name: str, project_id: str = "", provisioning_status: str = "",
                 operating_status: str = "", admin_state_up: bool | None = True, vip_address: str = "",
                 vip_subnet_id: str | None = None, vip_network_id: str | None = None,
                 vip_port_id: str | None = None, provider: str = "", created: float | None = None,
                 updated: float | None = None, listeners: list[Listener] | None = None,
                 pools: list[Pool] | None = None, tree_error: str | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.provisioning_status = provisioning_status
        self.operating_status = operating_status
        self.admin_state_up = admin_state_up
        self.vip_address = vip_address
        self.vip_subnet_id = vip_subnet_id
        self.vip_network_id = vip_network_id
        self.vip_port_id = vip_port_id
        self.provider = provider
        self.created = created
        self.updated = updated
        self.listeners = [] if listeners is None else listeners
        self.pools = [] if pools is None else pools
        self.tree_error = tree_error  # why its status tree could not be read (its members are unverified)
        self.missing = missing

    @property
    def members(self) -> list[LbMember]:
        """Every member of every pool, each once."""
        return [m for p in self.pools for m in p.members]


class Image(Record):
    """A Glance image."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "", visibility: str = "",
                 created: float | None = None, updated: float | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id  # Glance's `owner`
        self.status = status  # as Glance gives it: queued, saving, active, killed ...
        self.visibility = visibility
        self.created = created
        self.updated = updated
        self.missing = missing


class Stack(Record):
    """A Heat stack; `status` is Heat's `stack_status` (CREATE_FAILED, UPDATE_IN_PROGRESS ...)."""

    def __init__(self, id: str, name: str, project_id: str = "", status: str = "",
                 status_reason: str = "", created: float | None = None, updated: float | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.id = id
        self.name = name
        self.project_id = project_id
        self.status = status
        self.status_reason = status_reason
        self.created = created
        self.updated = updated
        self.missing = missing


class Certificate(Record):
    """The TLS certificate one catalog endpoint host:port (or vCenter) presented at the sweep's handshake.

    `error` says why no certificate was read (the endpoint's finding: unreachable, no TLS, timed out);
    `verified` is whether the chain and host name verify against the configured CA (None: not tried);
    `verify_error` says why not."""

    def __init__(self, name: str, host: str, port: int, services: tuple[str, ...] = (),
                 not_after: float | None = None, subject: str = "", issuer: str = "",
                 verified: bool | None = None, verify_error: str | None = None, error: str | None = None,
                 missing: tuple[str, ...] = ()) -> None:
        self.name = name  # host:port
        self.host = host
        self.port = port
        self.services = services  # the catalog's service types on it ("vcenter" for vCenter)
        self.not_after = not_after
        self.subject = subject
        self.issuer = issuer
        self.verified = verified
        self.verify_error = verify_error
        self.error = error
        self.missing = missing

    @property
    def id(self) -> str:
        return self.name
