"""The certificates' part of the dependency tree (topology.py): one service per endpoint host:port on the
cloud host, with no parent but the cloud host and no dependents.

An expired or untrusted certificate breaks what talks to the endpoint (the sweep, the services calling each
other), and those failures show on the objects they hit; the certificate's own service names the cause. No
object depends on it: its failures are not suppressed behind it, since a certificate can be at fault without
any of them failing yet (docs/impact-and-root-cause.md, "An expired certificate").
"""

from __future__ import annotations

from typing import Any


def certificate_nodes(builder: Any) -> None:
    """Add a node per certificate of the builder's inventory (topology._Builder: inv, look, topo)."""
    make = getattr(builder.look, "certificate", None)
    if make is None:  # a Look without certificates (tests' own): nothing to place
        return
    for cert in sorted(builder.inv.certificates, key=lambda c: (c.host, c.port)):
        builder.topo.add(make(cert))
