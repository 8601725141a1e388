"""``vio-sim``: run the VIO API simulator in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from .admin import ADMIN_HELP
from .simulator import Simulator
from .store import SCENARIO_DIR

EPILOG = f"""\
The first line on stdout is the base URL the simulator bound (e.g. http://127.0.0.1:8080); Keystone is at
<URL>/identity/v3 and the catalog points at <URL>/compute/v2.1, <URL>/network and <URL>/volume/v3/<project>
(and <URL>/load-balancer when the scenario has load balancers: settings "octavia": true/false decides).
Credentials: admin / vio-sim, project admin, domain Default, region RegionOne (unless the scenario says else).
A multi-region scenario (e.g. the built-in "regions") serves another region's services under
<URL>/regions/<name>/; the admin API takes ?region=<name> (default: the primary region).

Built-in scenarios: {", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.json")))}.
Scenario format: see the docstring of vio_sim.store (python -m pydoc vio_sim.store).

{ADMIN_HELP}
Examples:
  vio-sim --scenario demo --port 8080 --write-clouds-yaml ./clouds.yaml
  vio-sim --generate 10000 --port 0
  curl -s -XPATCH localhost:8080/_sim/compute_services/nova-compute@vio-compute-01 -d '{{"state": "down"}}'
  curl -s -XPOST localhost:8080/_sim/compute_services/nova-conductor@vio-controller-01/restart
  curl -s -XPOST localhost:8080/_sim/faults -d '{{"path": "/servers/detail", "status": 503, "count": 1}}'
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vio-sim", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Simulate the Keystone, Nova, Neutron and Cinder APIs of a VMware Integrated OpenStack "
                    "cloud on a local port, for the vio-checks plugins, their tests and demos.")
    p.add_argument("--scenario", default="demo", metavar="NAME|PATH",
                   help="built-in scenario name or path to a scenario JSON file (default: demo)")
    p.add_argument(
        "--generate",
        type=int,
        metavar="VMS",
        help="serve a generated cloud with VMS servers (other sizes scale with it) instead of a scenario",
    )
    p.add_argument("--seed", type=int, default=1, help="seed for --generate (default: 1)")
    p.add_argument(
        "--regions",
        metavar="R1,R2,...",
        help="with --generate: a cloud of these regions behind one Keystone, the first the primary one "
        "(another region's services are under <URL>/regions/<name>/; see vio_sim.regions)",
    )
    p.add_argument(
        "--identity-in-primary-only",
        action="store_true",
        help="list Keystone in the catalog of the primary region only, as clouds sharing one Keystone may "
        "(every other region's setting identity_endpoint: false; see vio_sim.regions)",
    )
    p.add_argument(
        "--layout",
        choices=("ha", "compact", "tiny"),
        help="give the scenario the controller services of this VIO deployment mode: ha three members of "
        "each controller binary (nova-scheduler, nova-conductor, cinder-scheduler, DHCP and metadata "
        "agents), compact and tiny one (see vio_sim.services)",
    )
    p.add_argument(
        "--pods",
        action="store_true",
        help="with --layout: name the members as Kubernetes pods (<binary>-<hash>-<suffix>), as VIO 6 and "
        "later run them; POST /_sim/<kind>/<id>/restart then recreates one under a new name",
    )
    p.add_argument(
        "--backend",
        choices=("ml2", "nsx"),
        default="ml2",
        help="Neutron backend for --generate: ml2 has L3/DHCP agents, nsx has none (default: ml2)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1; anything else exposes an unauthenticated admin API)",
    )
    p.add_argument(
        "--port", type=int, default=8080, help="port to bind, 0 for an ephemeral port (default: 8080)"
    )
    p.add_argument(
        "--token-ttl", type=float, default=3600, metavar="S", help="token lifetime in seconds (3600)"
    )
    p.add_argument(
        "--page-max",
        type=int,
        default=1000,
        metavar="N",
        help="largest page a list call returns (the services' max_limit; default 1000)",
    )
    p.add_argument(
        "--region", default=None, help="region name in the catalog (default: the scenario's, RegionOne)"
    )
    p.add_argument(
        "--no-agents",
        action="store_true",
        help="answer 404 on /v2.0/agents as a Neutron without the agent extension (NSX) does",
    )
    p.add_argument(
        "--write-clouds-yaml", metavar="PATH", help="write a clouds.yaml for this simulator to PATH"
    )
    p.add_argument("--cloud-name", default="vio-sim", help="cloud name in the written clouds.yaml (vio-sim)")
    p.add_argument(
        "--dump-scenario",
        metavar="PATH",
        help="write the loaded scenario (e.g. a generated one) as JSON to PATH and exit",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scenario: Any = args.scenario
    if args.generate is not None:
        from .generator import scaled

        regions = [r for r in (args.regions or "").split(",") if r]
        scenario = scaled(args.generate, seed=args.seed, backend=args.backend, regions=regions or None)
    if args.pods and not args.layout:
        print("vio-sim: --pods needs --layout", file=sys.stderr)
        return 2
    if args.layout:
        from .services import with_layout
        from .store import load_scenario

        scenario = with_layout(dict(load_scenario(scenario)), args.layout, pods=args.pods)
    if args.identity_in_primary_only:
        from .common import SimError
        from .regions import identity_in_primary_only

        try:
            scenario = identity_in_primary_only(scenario)
        except SimError as exc:
            print(f"vio-sim: {exc.message}", file=sys.stderr)
            return 2
    if args.dump_scenario:
        from .store import load_scenario

        with open(args.dump_scenario, "w") as fh:
            json.dump(load_scenario(scenario), fh, indent=1)
        return 0
    sim = Simulator(
        scenario,
        host=args.host,
        port=args.port,
        token_ttl=args.token_ttl,
        page_max=args.page_max,
        region=args.region,
        agents=not args.no_agents,
        verbose=args.verbose,
    )
    try:
        sim.start()
    except (OSError, ValueError, FileNotFoundError) as exc:
        print(f"vio-sim: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(sim.url, flush=True)
    creds = sim.credentials
    what = f"{args.generate} generated VMs" if args.generate is not None else args.scenario
    print(
        f"vio-sim: serving {what} at {sim.url} "
        f"(auth_url {creds['auth_url']}, user {creds['username']}/{creds['password']}, project "
        f"{creds['project_name']}); admin API at {sim.url}/_sim/",
        file=sys.stderr,
        flush=True,
    )
    if args.write_clouds_yaml:
        path = sim.write_clouds_yaml(args.write_clouds_yaml, cloud=args.cloud_name)
        print(f"vio-sim: wrote {path} (cloud {args.cloud_name})", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
