"""A plain OpenStack monitoring plugin, the baseline of figure 5: authenticate and list servers on every run.

This is how most OpenStack plugins work (no cache, no shared token): every run pays Python start-up, the
openstacksdk import, a Keystone token request, version discovery and the full server listing through SDK
resource objects. The cloud comes from OS_CLOUD / OS_CLIENT_CONFIG_FILE, as for the vio-checks commands.
"""

from __future__ import annotations

import sys


def main() -> int:
    """List every server of every project; OK with the count, CRITICAL if any is in ERROR."""
    try:
        import openstack

        conn = openstack.connect()
        servers = list(conn.compute.servers(details=True, all_projects=True))
    except Exception as e:  # noqa: BLE001 - a plugin answers UNKNOWN, never a traceback
        print(f"SERVERS UNKNOWN - {type(e).__name__}: {e}")
        return 3
    errors = sum(1 for s in servers if s.status == "ERROR")
    state, rc = ("CRITICAL", 2) if errors else ("OK", 0)
    n = len(servers)
    print(f"SERVERS {state} - {n} servers, {errors} in ERROR | servers={n} error={errors}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
