"""Operational settings of the monitoring config: templates, their check attempts and intervals.

One place for what icinga/templates.conf (Icinga 2) and icinga/nagios/templates.cfg (Nagios 4) set and the
generator relies on: which template each node kind imports, the check_command a template sets, and the
max_check_attempts / check_interval / retry_interval that make a parent's problem HARD before its
children's. tests/test_settings.py parses both shipped files and compares them with this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from vio_checks import topology as t

#: The retry interval of every template (s): equal everywhere, so more attempts means HARD later.
RETRY_INTERVAL = 30


@dataclass(frozen=True)
class Template:
    """A host or service template as both syntaxes define it (intervals in seconds)."""

    name: str
    object_type: str  # "Host" or "Service"
    base: str | None  # the template it imports (Icinga 2) / uses (Nagios)
    check_interval: int
    max_check_attempts: int
    #: The Icinga 2 check_command it sets (None: each object sets its own). Nagios templates set none:
    #: the generated objects carry the command with all of its arguments.
    check_command: str | None = None
    retry_interval: int = RETRY_INTERVAL


#: The bases every vio template imports.
BASE_TEMPLATES: tuple[Template, ...] = (
    Template("vio-host", "Host", None, check_interval=300, max_check_attempts=3),
    Template("vio-service", "Service", None, check_interval=300, max_check_attempts=3),
)

#: The templates of the generated objects. Every child has more max_check_attempts than each of its parents
#: (explicit, and a service's host): with the same retry interval, a parent's problem is HARD first.
NODE_TEMPLATES: tuple[Template, ...] = (
    Template("vio-cloud-host", "Host", "vio-host", 60, 2, "vio_discovery"),
    Template("vio-cloud-service", "Service", "vio-service", 60, 3, None),
    Template("vio-hypervisor-host", "Host", "vio-host", 120, 4, "vio_hypervisor"),
    Template("vio-router-host", "Host", "vio-host", 120, 4, "vio_router"),
    Template("vio-volume-backend-host", "Host", "vio-host", 300, 4, "dummy"),
    Template("vio-esxi-host", "Host", "vio-host", 120, 5, "vio_esxi"),
    Template("vio-vm-host", "Host", "vio-host", 300, 6, "vio_vm"),
    Template("vio-capacity-service", "Service", "vio-service", 300, 5, "vio_hypervisor"),
    Template("vio-datastore-service", "Service", "vio-service", 300, 3, "vio_datastore"),
    Template("vio-interface-service", "Service", "vio-service", 300, 7, "vio_interface"),
    Template("vio-volume-service", "Service", "vio-service", 300, 7, "vio_volume"),
    # Octavia (topology_lb.py): a load balancer below its VIP network's router (4), a member below the load
    # balancer host (5) and its VM host (6). The objects set check_command (vio_loadbalancer) themselves.
    Template("vio-loadbalancer-host", "Host", "vio-host", 120, 5, None),
    Template("vio-lb-member-service", "Service", "vio-service", 300, 7, None),
)

#: Nagios only: the service that stands for a host other services depend on (a router), as that host.
NAGIOS_STATE_TEMPLATE = Template("vio-host-state-service", "Service", "vio-service", 120, 4)

#: Template per node kind (the same names in templates.conf and nagios/templates.cfg).
TEMPLATES: dict[str, str] = {
    t.CLOUD: "vio-cloud-host",
    t.HYPERVISOR: "vio-hypervisor-host",
    t.ESXI: "vio-esxi-host",
    t.DATASTORE: "vio-datastore-service",
    t.ROUTER: "vio-router-host",
    t.BACKEND: "vio-volume-backend-host",
    t.VM: "vio-vm-host",
    t.AGGREGATE: "vio-cloud-service",
    t.COMPUTE_SERVICE: "vio-cloud-service",
    t.VOLUME_SERVICE: "vio-cloud-service",
    t.L3_AGENT: "vio-cloud-service",
    t.L3_AGENTS: "vio-cloud-service",
    t.CLUSTER: "vio-cloud-service",
    t.CERTIFICATE: "vio-cloud-service",  # an endpoint's certificate (topology_certificates.py)
    t.CAPACITY: "vio-capacity-service",
    t.INTERFACE: "vio-interface-service",
    t.VOLUME: "vio-volume-service",
    t.LOADBALANCER: "vio-loadbalancer-host",
    t.LB_MEMBER: "vio-lb-member-service",
}

#: The check_command a template sets (None: each object sets its own).
TEMPLATE_COMMANDS: dict[str, str | None] = {tpl.name: tpl.check_command for tpl in NODE_TEMPLATES}

#: max_check_attempts per template.
ATTEMPTS: dict[str, int] = {tpl.name: tpl.max_check_attempts for tpl in NODE_TEMPLATES}

#: (check_interval, retry_interval) in seconds per template. Leaf intervals can be overridden per cloud.
INTERVALS: dict[str, tuple[int, int]] = {tpl.name: (tpl.check_interval, tpl.retry_interval)
                                         for tpl in NODE_TEMPLATES}

#: `--*-interval` options of the generator → the node kinds they set.
LEAF_INTERVALS = {"vm": (t.VM,), "interface": (t.INTERFACE,), "volume": (t.VOLUME,)}


def template(name: str) -> Template:
    """The template of that name (base, node or the Nagios state template); KeyError when unknown."""
    for tpl in (*BASE_TEMPLATES, *NODE_TEMPLATES, NAGIOS_STATE_TEMPLATE):
        if tpl.name == name:
            return tpl
    raise KeyError(name)


#: The checks' default --max-age (s): how old an inventory a check may judge before it sweeps again.
DEFAULT_MAX_AGE = 120


def notification_delay(template_name: str, max_age: float = DEFAULT_MAX_AGE,
                       interval: float | None = None) -> float:
    """The longest time (s) from a fault in the cloud to its notification, active mode, as the templates
    schedule it: the inventory may be `max_age` old when the fault happens, the object's next check may be
    a whole check interval away, and a problem needs max_check_attempts - 1 retries to be HARD (Icinga
    notifies at HARD). Sweep and check run times come on top (seconds, see BENCHMARKS.md).

        max_age + check_interval + (max_check_attempts - 1) x retry_interval
    """
    tpl = template(template_name)
    check = tpl.check_interval if interval is None else interval
    return max_age + check + (tpl.max_check_attempts - 1) * tpl.retry_interval
