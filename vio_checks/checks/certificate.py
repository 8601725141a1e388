"""check_vio_certificate: the TLS certificate of a catalog endpoint host:port (or vCenter), or all of them."""

from __future__ import annotations

from vio_checks.checks.base import (
    AGGREGATE_RULE,
    SELECTION_GROUP,
    CheckSpec,
    accept_unverified_option,
    main_for,
    range_arg,
)
from vio_checks.checks.select import select_one
from vio_checks.judge.aggregate import Member, aggregate
from vio_checks.judge.certificate import CertificateOptions, judge_certificate
from vio_checks.judge.verdict import Threshold, Verdict
from vio_checks.options import Option, selector

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

EPILOG = """\
The sweep reads the certificate of every https endpoint of the catalog (the interface the cloud config
uses: public by default), one TLS handshake per distinct host:port, and of vCenter when the vSphere layer is
configured; it verifies each against the CA the cloud config names (cacert; vCenter: its cafile).

states:
  CRITICAL  fewer whole days left than --critical allows (default 7:, under 7 days); expired; the
            certificate no longer verifies against the configured CA (expired, wrong host name, unknown
            issuer), with the reason
  WARNING   fewer whole days left than --warning allows (default 30:, under 30 days)
  UNKNOWN   the endpoint could not be reached or presented no readable certificate at the last sweep
            (named, with why); --name not found
  OK        the certificate verifies and has at least 30 days left (with verification off in the cloud
            config, insecure: days only, said in the long output)
  aggregate (no --name): every endpoint judged as above, by the aggregate rule below, but -w/-c are days
  perfdata: days (whole days left, with the ranges; the aggregate's counts instead)

examples:
  check_vio_certificate --os-cloud vio --name keystone.vio.example:5000
  VIO CERTIFICATE CRITICAL - keystone.vio.example:5000 expires in 5 days (2026-12-11) | days=5;30:;7:
  check_vio_certificate --os-cloud vio
  VIO CERTIFICATE UNKNOWN - 1 UNKNOWN: nova.vio.example:8774: no certificate read: cannot connect:
  Connection refused
""" + AGGREGATE_RULE

GROUP = "certificate expiry (Nagios ranges on whole days left)"

OPTIONS = (
    Option(("--name",), type=selector, metavar="HOST:PORT", group=SELECTION_GROUP,
           help="one endpoint's host:port as the catalog names it (vCenter: its host:443)"),
    Option(("-w", "--warning"), type=range_arg, default="30:", metavar="RANGE", group=GROUP,
           help="days left (default: 30:, WARNING under 30 days)"),
    Option(("-c", "--critical"), type=range_arg, default="7:", metavar="RANGE", group=GROUP,
           help="days left (default: 7:, CRITICAL under 7 days; expired is always CRITICAL)"),
    accept_unverified_option("certificates"),
)


def evaluate(args: argparse.Namespace, snap, now: float) -> Verdict:
    opts = CertificateOptions(days=Threshold.parse(args.warning, args.critical))
    c = select_one(snap, "certificates", args, "certificate")
    if c is not None:
        return judge_certificate(c, now, opts)
    items = [Member(c.name, c.name, judge_certificate(c, now, opts)) for c in snap.all("certificates")]
    return aggregate(items, "certificates", accept_unverified=args.accept_unverified)


SPEC = CheckSpec(
    name="certificate",
    description="Check the TLS certificate of a catalog endpoint (or vCenter) from the cached inventory: "
                "days to expiry and whether it verifies, or all of them.",
    evaluate=evaluate,
    options=OPTIONS,
    epilog=EPILOG,
    members="certificates",
)
main = main_for(SPEC)
