"""Heartbeats of the amphorae Octavia's no-op drivers "built", sent to octavia-health-manager over UDP.

Runs in the stack's venv (it imports Octavia). With the no-op compute and amphora drivers no amphora exists
to report, so load balancers would stay OFFLINE forever; a real amphora's health daemon sends one signed UDP
message per interval naming its listeners (OPEN), pools (UP) and members. This process sends the same
message (octavia.amphorae.backends.health_daemon.status_message.wrap_envelope, version 3) for every
ALLOCATED amphora, every 2 seconds (for an admin-disabled load balancer too: Octavia's health manager then
sets it OFFLINE itself). A member whose id has a file
`<control>/<member id>.down` is reported DOWN, so Octavia's own health manager makes its pool and load
balancer DEGRADED.

    python fake_amphorae.py OCTAVIA_CONF CONTROL_DIR
"""

from __future__ import annotations

import configparser
import socket
import sys
import time
from pathlib import Path

import pymysql
from octavia.amphorae.backends.health_daemon import status_message

INTERVAL = 2.0
STATS = {"tx": 0, "rx": 0, "conns": 0, "totconns": 0, "ereq": 0}


def messages(db: pymysql.connections.Connection, control: Path, seq: int) -> list[dict]:
    """One heartbeat per allocated amphora."""
    out = []
    with db.cursor() as cur:
        cur.execute("SELECT id, load_balancer_id FROM amphora WHERE status = 'ALLOCATED'")
        for amp_id, lb_id in cur.fetchall():
            cur.execute("SELECT id, default_pool_id FROM listener WHERE load_balancer_id = %s", (lb_id,))
            listeners = cur.fetchall()
            cur.execute("SELECT id FROM pool WHERE load_balancer_id = %s", (lb_id,))
            pools = {}
            for (pool_id,) in cur.fetchall():
                cur.execute("SELECT id FROM member WHERE pool_id = %s", (pool_id,))
                members = {m: "DOWN" if (control / f"{m}.down").exists() else "UP" for (m,) in cur.fetchall()}
                on = next((lid for lid, dp in listeners if dp == pool_id), None)
                pools[f"{pool_id}:{on}" if on else pool_id] = {"status": "UP", "members": members}
            out.append({"id": amp_id, "seq": seq, "ver": 3, "pools": pools,
                        "listeners": {lid: {"status": "OPEN", "stats": STATS} for lid, _ in listeners}})
    return out


def main() -> None:
    conf_path, control = sys.argv[1], Path(sys.argv[2])
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(conf_path)
    key = cp["health_manager"]["heartbeat_key"]
    target = (cp["health_manager"]["bind_ip"], int(cp["health_manager"]["bind_port"]))
    url = cp["database"]["connection"]  # mysql+pymysql://user:password@127.0.0.1:port/octavia?charset=utf8
    creds, rest = url.split("://", 1)[1].split("@", 1)
    user, password = creds.split(":", 1)
    hostport, dbname = rest.split("/", 1)
    host, port = hostport.split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq = 0
    db = None
    while True:
        try:
            if db is None:
                db = pymysql.connect(host=host, port=int(port), user=user, password=password,
                                     database=dbname.split("?")[0], autocommit=True)
            for msg in messages(db, control, seq):
                sock.sendto(status_message.wrap_envelope(msg, key), target)
        except pymysql.MySQLError as e:
            print(f"fake-amphorae: {e}", flush=True)
            db = None
        seq += 1
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
