"""WSGI entry points for the upstream services under gunicorn (runs in the stack's venv, not the product's).

The services parse sys.argv with oslo.config, so gunicorn's own arguments would crash them: each entry point
resets sys.argv first. Configuration comes from the environment the harness sets (see stack.py).
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _argv(*extra: str) -> None:
    sys.argv = [sys.argv[0], *extra]


def keystone() -> Any:
    """Keystone's public API (the wheel ships no keystone-wsgi-public script)."""
    _argv()
    from keystone.server.wsgi import initialize_public_application

    return initialize_public_application()


def nova() -> Any:
    """Nova's compute API; OS_NOVA_CONFIG_DIR / OS_NOVA_CONFIG_FILES name nova.conf."""
    _argv()
    from nova.wsgi.osapi_compute import application

    return application


def placement() -> Any:
    """Placement; OS_PLACEMENT_CONFIG_DIR holds placement.conf."""
    _argv()
    from placement.wsgi.api import application

    return application


def glance() -> Any:
    """Glance's API; OS_GLANCE_CONFIG_DIR holds glance-api.conf."""
    _argv()
    from glance.wsgi.api import application

    return application


def cinder() -> Any:
    """Cinder's API; it only reads --config-file."""
    _argv("--config-file", os.environ["REALOS_CINDER_CONF"])
    from cinder.wsgi.api import application

    return application


def neutron() -> Any:
    """Neutron's API (Neutron 29 has no neutron-server); OS_NEUTRON_CONFIG_* name its files."""
    _argv()
    from neutron.wsgi.api import application

    return application


def octavia() -> Any:
    """Octavia's API; REALOS_OCTAVIA_CONF names octavia.conf."""
    _argv("--config-file", os.environ["REALOS_OCTAVIA_CONF"])
    from octavia.api import app

    return app.setup_app(argv=sys.argv)


def heat() -> Any:
    """Heat's API; REALOS_HEAT_CONF names heat.conf."""
    _argv("--config-file", os.environ["REALOS_HEAT_CONF"])
    from heat.api.openstack import wsgi

    return wsgi.init_application()
