"""Which objects are monitored at all: the project filters and the monitoring=off metadata, in one place.

The config generator (topology.py) leaves filtered objects out, and the aggregate checks it emits take the
same filters on their command lines (`--include-projects`, `--exclude-projects`, `--skip-unmonitored`), so
an aggregate judges exactly the objects the generated config monitors. Excluded objects are monitored
nowhere. Pure functions, no I/O.

Rules:
- a project is selected by its id or its name; with include filters only those, minus the excluded ones;
- a server is monitored unless its project is filtered out, or (when unmonitored servers are skipped, as the
  generator always does) its metadata says monitoring=off (also false, no, disabled, 0; key and value in any
  case);
- a volume is monitored when its project is selected and it is attached to no server left out;
- a VM port (interface) is monitored when its server is; a port of a server the inventory no longer holds,
  or another port, when its own project is selected;
- a router is monitored when its project is selected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from vio_checks.model import FrozenRecord, Port, Router, Server, Volume

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (nor argparse: see options.parse_fast)
if TYPE_CHECKING:
    import argparse
    from typing import Any

#: Metadata that takes a server (with its volumes and ports) out of monitoring: monitoring=off.
MONITORING_KEY = "monitoring"
MONITORING_OFF = frozenset({"off", "false", "no", "disabled", "0"})


def monitoring_off(server: Server) -> bool:
    """True when the server's metadata has monitoring=off (or false/no/disabled/0), any case."""
    for key, value in (server.metadata or {}).items():
        if str(key).strip().lower() == MONITORING_KEY and str(value).strip().lower() in MONITORING_OFF:
            return True
    return False


class Selection(FrozenRecord):
    """The filters, and the project names (id → name) they are matched against.

    `include_projects`: ids or names, empty for all; `skip_unmonitored`: leave out servers with
    monitoring=off (and their volumes and ports).
    """

    def __init__(self, include_projects: frozenset[str] = frozenset(),
                 exclude_projects: frozenset[str] = frozenset(), skip_unmonitored: bool = False,
                 project_names: Mapping[str, str] | None = None) -> None:
        self.__dict__.update(include_projects=include_projects, exclude_projects=exclude_projects,
                             skip_unmonitored=skip_unmonitored,
                             project_names={} if project_names is None else project_names)

    @property
    def active(self) -> bool:
        """Whether any filter is set (else every object is selected)."""
        return bool(self.include_projects or self.exclude_projects or self.skip_unmonitored)

    def project_selected(self, project_id: str) -> bool:
        names = {project_id, self.project_names.get(project_id) or project_id}
        if self.include_projects and not names & self.include_projects:
            return False
        return not names & self.exclude_projects

    def server_selected(self, server: Server) -> bool:
        if self.skip_unmonitored and monitoring_off(server):
            return False
        return self.project_selected(server.project_id)

    def volume_selected(self, volume: Volume, servers: Mapping[str, Server]) -> bool:
        """`servers`: the inventory's servers by id (an attachment to a missing server does not count)."""
        if not self.project_selected(volume.project_id):
            return False
        return all(self.server_selected(servers[a.server_id]) for a in volume.attachments
                   if a.server_id in servers)

    def port_selected(self, port: Port, server: Server | None) -> bool:
        """`server`: the port's VM when it is a VM port and the inventory holds the VM, else None."""
        if port.is_vm_port and server is not None:
            return self.server_selected(server)
        return self.project_selected(port.project_id)

    def router_selected(self, router: Router) -> bool:
        return self.project_selected(router.project_id)


def selection_options(what: str, unmonitored: bool = True) -> tuple[Any, ...]:
    """The filter options (`options.Option`) of an aggregate check (ignored with --id/--name: a named object
    is judged).

    `unmonitored`: whether the objects belong to servers, so --skip-unmonitored applies (not to routers).
    """
    from vio_checks.options import FLAG, Option, comma_list  # late: the topology imports this module

    group = "aggregate filters (the generated config passes its own filters here)"
    out = [
        Option(("--include-projects",), type=comma_list, metavar="LIST", group=group,
               help=f"aggregate only the {what} of these projects (ids or names, comma-separated)"),
        Option(("--exclude-projects",), type=comma_list, metavar="LIST", group=group,
               help=f"leave out the {what} of these projects (ids or names, comma-separated)"),
    ]
    if unmonitored:
        out.append(Option(("--skip-unmonitored",), kind=FLAG, group=group,
                          help="leave out servers with the metadata monitoring=off (also false, no, "
                               "disabled, 0), with their volumes and ports"))
    return tuple(out)


def selection_from_args(args: argparse.Namespace, snap: Any) -> Selection:
    """The Selection the options ask for (the snapshot's project names only when a filter needs them)."""
    include = frozenset(getattr(args, "include_projects", None) or ())
    exclude = frozenset(getattr(args, "exclude_projects", None) or ())
    projects: Iterable[Any] = snap.all("projects") if include or exclude else ()
    return Selection(include_projects=include, exclude_projects=exclude,
                     skip_unmonitored=bool(getattr(args, "skip_unmonitored", False)),
                     project_names={p.id: p.name for p in projects})


def selection_args(sel: Selection, unmonitored: bool = True) -> tuple[tuple[str, str | None], ...]:
    """The command-line arguments that make an aggregate check apply `sel` (the generator's side);
    `unmonitored` as for selection_options."""
    out: list[tuple[str, str | None]] = []
    if sel.include_projects:
        out.append(("--include-projects", ",".join(sorted(sel.include_projects))))
    if sel.exclude_projects:
        out.append(("--exclude-projects", ",".join(sorted(sel.exclude_projects))))
    if sel.skip_unmonitored and unmonitored:
        out.append(("--skip-unmonitored", None))
    return tuple(out)
