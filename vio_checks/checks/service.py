"""check_vio_service: Nova and Cinder services, Neutron agents and Keystone catalog endpoints."""

from __future__ import annotations

import textwrap

from vio_checks.checks.base import THRESHOLD_GROUP, CheckSpec, main_for, range_arg
from vio_checks.checks.select import NotFound, as_kept
from vio_checks.judge.service import judge_one, judge_services
from vio_checks.judge.service_rules import (
    CLUSTER_BINARIES,
    COMPONENTS,
    DEPLOYMENT_MODES,
    ServiceOptions,
    Services,
    component_of,
)
from vio_checks.judge.stale import STALE_AFTER
from vio_checks.judge.verdict import Verdict
from vio_checks.options import APPEND, FLAG, Option, comma_list, duration, int_range, selector, type_error
from vio_checks.text import age

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse


def _preset_text() -> str:
    lines = []
    for mode, preset in DEPLOYMENT_MODES.items():
        parts = [f"{b}={n}" + ("" if required else "*") for b, (n, required) in preset.items()]
        lines.append(textwrap.fill(" ".join(parts), 108, initial_indent=f"  {mode:<8}  ",
                                   subsequent_indent=" " * 12, break_on_hyphens=False))
    return "\n".join(lines)


_CLUSTERS = textwrap.fill(", ".join(CLUSTER_BINARIES), 106, subsequent_indent="  ")

EPILOG = f"""\
states:
  CRITICAL  a Nova or Cinder service is enabled but down
  CRITICAL  vCenter lost: a nova-compute service disabled (or down) with the VMware driver's reason "set by
            vmwareapi host_state" (the driver leaves that reason on re-enabling it: enabled and up is OK)
  CRITICAL  a Neutron agent is admin up but not alive
  CRITICAL  a public catalog endpoint (--component keystone) did not answer during the discovery sweep
            (connection error, timeout or HTTP 5xx), named in the output
  CRITICAL  fewer of a binary up than expected ("nova-scheduler: 1 of 2 up"); "up" means reporting and
            enabled (services) or alive and admin up (agents)
  OK        a disabled service or an admin-down agent, with its reason (--warn-disabled: WARNING)
  UNKNOWN   a service without status or state, an agent without alive or admin_state_up in the API's
            reply ("Nova reported no state: state unverified"), or with a value the API does not document
            or of the wrong type ("Neutron reported alive as a string: 'maybe'"): counted as unverified,
            never as up; each
            component's set is judged by the aggregate rule of the other checks (unverified members:
            WARNING "1 unverified (Nova reported no state: 1)"; nothing verified: UNKNOWN; a record listed
            twice counted once)
  UNKNOWN   the service selected with --binary and --host is not in the inventory

  With --component all (the default) every component is judged and the status line leads with the worst
  problem. With the NSX plugins there are no Neutron agents at all: that is OK, unless Neutron announces
  the agent extension (GET /v2.0/extensions): then an empty agents list is UNKNOWN, not NSX.

controller clusters (the records of one controller binary, wherever they run:
  {_CLUSTERS}):
  judged as one redundant set, not record by record, in aggregate mode and with --binary alone (--host
  still judges one record). Up: reporting and enabled (alive and admin up); unverified: state not given.
  OK        all expected members up          "cluster nova-conductor: all 3 members up"
  WARNING   fewer up, more than one          "cluster nova-conductor: reduced redundancy: 2 of 3 members
                                              up (down: nova-conductor@ctl-01)"
  WARNING   one up where more are expected   "cluster nova-conductor: at risk: 1 of 3 members up (...)"
  CRITICAL  none up                          "cluster nova-conductor: all components down: 0 of 3 members up"
  UNKNOWN   none up, some unverified         "cluster nova-conductor: none of 3 members verified up"
  Expected size: --expect, else the --deployment-mode preset, else the number of members.
  Stale records (Kubernetes pods: a restarted pod registers a new record, the old one stays down): a down
  record replaced by an up record that first registered after its last heartbeat, down for --stale-after
  or longer, is no member: named in the status line, counted (BINARY_stale), listed in the long output
  with the command that removes it ("openstack compute service delete 12"). Before --stale-after it is
  "replaced": not counted either (its successor took its place one for one, so a routine restart warns
  no one), named with when it turns stale ("replaced by nova-conductor@ctl-04, stale in 50 min"). A down
  record nothing replaced is a member that is down, however old.
  --critical-at-risk and -w/-c (ranges on the number up, e.g. -c 2:) may raise a cluster's state, never
  lower it; only with --binary naming a cluster. The generated config passes neither: a cluster that is
  CRITICAL while a member still serves would make its dependents (nova-compute) unreachable.

selection:
  --binary B --host H   one service or agent (e.g. --binary neutron-l3-agent --host vio-net-01);
                        no count is expected for it
  --binary B            every service/agent of that binary, with its expected count
  --host H              every service/agent on that host, no counts
  Endpoints are judged only without --binary/--host.

expected counts (how many must be up; without --expect or --deployment-mode none is expected):
  --expect BINARY=N     repeatable; overrides the deployment-mode preset for that binary
  --deployment-mode     VIO's deployment modes: HA runs two controllers (two schedulers and conductors
                        must be up), compact and tiny one. * marks a binary expected only when the inventory
                        has it: nova-consoleauth (gone since Nova Train), and the Neutron agents (VDS/ML2
                        networking only; NSX runs none). DHCP and metadata agents scale with network nodes,
                        so one must be up; HA routers need two L3 agents. cinder-volume runs active/passive
                        under one host name, so 1 in every mode. nova-compute (one per vSphere cluster) is
                        never in a preset: use --expect nova-compute=N.
{_preset_text()}

perfdata:
  per cluster: BINARY_up (warning below expected, critical below 1, or -w/-c), BINARY_expected, BINARY_down,
  BINARY_unverified, BINARY_stale, BINARY_replaced
  per other binary: BINARY_up (critical range N: when N are expected), BINARY_down (enabled but not
  reporting), BINARY_disabled; per endpoint: SERVICE-TYPE_latency in s (keystone)

example:
  check_vio_service --os-cloud vio --deployment-mode ha
  VIO SERVICE CRITICAL - 1 CRITICAL of 7 nova services: nova-scheduler@vio-controller-01 is down since 10:42;
  nova-scheduler: 1 of 2 up | ... 'nova-scheduler_down'=1;;;0;2 'nova-scheduler_up'=1;;2:;0;2 ...
"""


#: N of --expect BINARY=N.
EXPECTED = int_range(0, 1000)


def expect_arg(text: str) -> tuple[str, int]:
    """argparse type for BINARY=N (N: EXPECTED)."""
    binary, sep, count = str(text).partition("=")
    binary = binary.strip()
    if not sep or not binary:
        raise type_error(f"invalid expectation {text!r} (use BINARY=N, e.g. nova-scheduler=2)")
    try:
        return binary, EXPECTED(count)
    except Exception as e:
        raise type_error(f"invalid expectation {text!r}: {e}") from None


GROUP = "services"
OPTIONS = (
    Option(("--component",), choices=(*COMPONENTS, "all"), default="all", group=GROUP,
           help="which services to judge (default: all); keystone means the public catalog endpoints"),
    Option(("--binary",), type=selector, metavar="BINARY", group=GROUP,
           help="only this binary, e.g. nova-scheduler, cinder-volume, neutron-l3-agent"),
    Option(("--host",), type=selector, metavar="HOST", group=GROUP, help="only services/agents on this host"),
    Option(("--exclude-binary",), metavar="LIST", type=comma_list, default=[], group=GROUP,
           help="leave these binaries out (and their expected counts), e.g. nova-compute when "
                "each is monitored as a service of its own (the generated config does that)"),
    Option(("--warn-disabled",), kind=FLAG, group=GROUP,
           help="a disabled service or admin-down agent is WARNING (default: OK, noted)"),
    Option(("--expect",), kind=APPEND, metavar="BINARY=N", type=expect_arg, group=GROUP,
           help=f"at least N ({EXPECTED.range_text}) of BINARY must be up (repeatable; overrides "
                "--deployment-mode)"),
    Option(("--deployment-mode",), choices=tuple(DEPLOYMENT_MODES), group=GROUP,
           help="expect VIO's controller services for this deployment mode (see below)"),
    Option(("--stale-after",), type=duration, default=STALE_AFTER, metavar="DURATION", group=GROUP,
           help="a controller cluster's down record replaced by a newer up record is stale (no member, "
                "listed with its removal command) once down this long (default: 1h)"),
    Option(("--critical-at-risk",), kind=FLAG, group=THRESHOLD_GROUP,
           help="--binary CLUSTER: one member up where more are expected is CRITICAL (default: WARNING)"),
    Option(("-w", "--warning"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
           help="--binary CLUSTER: WARNING when the number of members up is outside RANGE (may only raise "
                "the state)"),
    Option(("-c", "--critical"), type=range_arg, metavar="RANGE", group=THRESHOLD_GROUP,
           help="--binary CLUSTER: CRITICAL when the number of members up is outside RANGE, e.g. 2: (may "
                "only raise the state)"),
)


def _components(args: argparse.Namespace) -> tuple[str, ...]:
    return COMPONENTS if args.component == "all" else (args.component,)


def validate(args: argparse.Namespace) -> None:
    components = _components(args)
    if args.component == "keystone" and (args.binary or args.host or args.expect):
        raise ValueError("--binary, --host and --expect select services or agents, not keystone endpoints")
    ranged = args.critical_at_risk or args.warning or args.critical
    if ranged and (args.binary not in CLUSTER_BINARIES or args.host):
        raise ValueError("--critical-at-risk, -w and -c judge a controller cluster: use them with --binary "
                         f"naming one ({', '.join(CLUSTER_BINARIES)}) and without --host")
    for binary in [args.binary] + [b for b, _ in args.expect]:
        if binary and component_of(binary) not in components:
            raise ValueError(f"{binary} is a {component_of(binary)} binary, not part of --component "
                             f"{args.component}")


def _options(args: argparse.Namespace) -> ServiceOptions:
    return ServiceOptions(warn_disabled=args.warn_disabled, expect=dict(args.expect),
                          deployment_mode=args.deployment_mode, exclude=frozenset(args.exclude_binary),
                          stale_after=args.stale_after, critical_at_risk=args.critical_at_risk,
                          warning=args.warning, critical=args.critical)


_KINDS = {"nova": "compute_services", "cinder": "volume_services", "neutron": "agents"}


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = _options(args)
    components = _components(args)
    if args.binary and args.host:
        name = f"{args.binary}@{args.host}"
        found = [(_KINDS[comp], o) for comp in components if comp in _KINDS
                 for o in snap.find(_KINDS[comp], "name", name)]
        if not found:
            raise NotFound(f"service {name} not found in inventory (age {age(snap.age(now))})")
        if len(found) == 1:
            kind, obj = found[0]
            return as_kept(snap, kind, obj, judge_one(obj, opts, now), now)
    excluded = set(args.exclude_binary)

    def kept(kind: str, component: str) -> list:
        return [o for o in snap.all(kind) if o.binary not in excluded] if component in components else []

    inv = Services(
        nova=kept("compute_services", "nova"),
        cinder=kept("volume_services", "cinder"),
        agents=kept("agents", "neutron"),
        endpoints=snap.all("endpoints") if "keystone" in components else [],
        agents_expected=getattr(snap.meta, "neutron_agents", None),
        excluded=tuple(sorted({o.binary for kind in _KINDS.values() for o in snap.all(kind)} & excluded))
        if excluded else (),
    )
    return judge_services(inv, opts, now, components, binary=args.binary, host=args.host)


#: docs/checks.md's prose on this check (`make docs` adds its options and --help).
DOC = """\
Reads nova and cinder services (os-services), Neutron agents and the catalog endpoints' reachability.
`--component nova|neutron|cinder|keystone|all` (default all), `--binary B --host H` for one service or \
agent.
Enabled but down → CRITICAL; disabled → OK with its reason (`--warn-disabled` → WARNING), except \
nova-compute
disabled (or down) with the VMware driver's reason → CRITICAL "vCenter unreachable"; agents admin up but not
alive → CRITICAL; admin down → OK (`--warn-disabled` → WARNING); a service without status or state, an agent
without alive or admin_state_up, or any of these undocumented or of the wrong type → UNKNOWN, counted as
unverified and never as up;
keystone: every public endpoint must have answered during the sweep. Expected counts: `--expect BINARY=N`
(repeatable) or `--deployment-mode ha|compact|tiny`, VIO's three deployment modes (HA runs two of each
controller service; `--help` lists the presets): fewer up → CRITICAL "nova-scheduler: 1 of 2 up".
Perfdata: up/down/disabled per binary, endpoint latency.

    VIO SERVICE CRITICAL - 1 CRITICAL of 2 nova services: nova-compute@vio-compute-01 is down since 10:42

### Controller service clusters

The records of one controller binary (nova-conductor, nova-scheduler, nova-consoleauth, cinder-scheduler,
cinder-backup, neutron-dhcp-agent, neutron-metadata-agent) do the same job anywhere in the region, so they
are judged as one **cluster** (VMware Smart Assurance's "controller service cluster"), by the same
redundant-set judge as an HA router's L3 agents (`vio_checks/judge/cluster.py` on `judge/redundant.py`).
`check_vio_service --binary nova-conductor` judges the cluster (`--host` still judges one record); the
aggregates (`--component nova`, no `--binary`) judge clusters, not records. Per-resource binaries
(nova-compute, cinder-volume, L3 and per-host L2 agents) stay per record. A member is up when it reports and
is enabled (an agent: alive and admin up); a member whose state the API did not give is unverified, never \
up.

    OK        VIO SERVICE OK - cluster nova-conductor: all 3 members up
    WARNING   VIO SERVICE WARNING - cluster nova-conductor: reduced redundancy: 2 of 3 members up (down: \
nova-conductor@ctl-01)
    WARNING   VIO SERVICE WARNING - cluster nova-conductor: at risk: 1 of 3 members up (down: ...)
    CRITICAL  VIO SERVICE CRITICAL - cluster nova-conductor: all components down: 0 of 3 members up \
(down: ...)
    UNKNOWN   VIO SERVICE UNKNOWN - cluster nova-conductor: none of 3 members verified up (...)

**Expected size**: `--expect BINARY=N`, else the `--deployment-mode` preset (`ha`: two schedulers and
conductors, two cinder-schedulers, one DHCP/metadata agent; `compact`/`tiny`: one each; `--help` prints the
table), else the number of members. More members than expected widen the set: a down member is never hidden
by a smaller expectation. `--critical-at-risk` and `-w`/`-c` (Nagios ranges on the number up) may raise the
state for standalone use, never lower it; the generated config passes neither, because a cluster that is
CRITICAL while a member still serves would make its dependents unreachable.

**Stale records and `--stale-after`** (default 1h). Where the control plane runs in Kubernetes pods (VIO 6
and later), a restarted pod registers a new record under a new host name and the old one stays down for
ever. A down record that an up record of the same binary replaced (one that first registered after its last
heartbeat: Neutron's `created_at`, else the sweeps' own registration window; `judge/stale.py`) is:
- *replaced*, before `--stale-after`: not counted (its successor took its place one for one, so a routine
  restart warns no one), named in the status line with when it turns stale;
- *stale*, after it: not a member, named in the status line, counted in `BINARY_stale`, listed in the long
  output with the command that removes it (`openstack compute service delete <id>`, `openstack network agent
  delete <id>`, `cinder-manage service remove BINARY HOST`).

A down record that nothing replaced is a member that is down, however old.

    VIO SERVICE OK - cluster nova-conductor: all 3 members up; 1 stale record: \
nova-conductor@nova-conductor-7d9f-x2k4q (removal command in the long output)
"""

SPEC = CheckSpec(
    name="service",
    description="Check VIO's OpenStack services (Nova, Cinder, Neutron agents, Keystone catalog endpoints) "
                "from the cached inventory.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    validate=validate,
    members="services",
    doc=DOC,
)
main = main_for(SPEC)
