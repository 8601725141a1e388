"""MariaDB and RabbitMQ for the stack: Debian's binaries run as private instances on loopback ports."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from .procs import StackError

DB_USER = "os"
DB_PASSWORD = "os-db"
DATABASES = ("keystone", "nova_api", "nova", "nova_cell0", "placement", "glance", "cinder", "neutron",
             "octavia", "heat")


class Backing:
    """Stack's part that starts MariaDB (all the services' databases) and RabbitMQ (their RPC)."""

    def _start_mariadb(self) -> None:
        t = time.monotonic()
        d = self.root / "mysql"
        d.mkdir()
        sock = str(d / "sock")
        self.run("mariadb-install-db", ["mariadb-install-db", "--no-defaults", f"--datadir={d / 'data'}",
                                        "--user=root", "--auth-root-authentication-method=normal",
                                        "--skip-test-db"])
        self.spawn("mariadb", [
            "mariadbd", "--no-defaults", f"--datadir={d / 'data'}", "--user=root", "--bind-address=127.0.0.1",
            f"--port={self.ports['mysql']}", f"--socket={sock}", f"--pid-file={d / 'pid'}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--max-connections=2000",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
            f"--log-error={self.logs / 'mariadb-error.log'}",
        ])
        self.wait_for("mariadb", lambda: Path(sock).exists() and self._sql(sock, "SELECT 1"), 60, ("mariadb",))
        grants = [f"CREATE DATABASE {db} CHARACTER SET utf8" for db in DATABASES]
        grants += [f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}'",
                   f"GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1'"]
        if not self._sql(sock, "; ".join(grants)):
            raise StackError("mariadb: cannot create the databases")
        self._timed("mariadb", t)

    @staticmethod
    def _sql(sock: str, statements: str) -> bool:
        p = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "-e", statements],
                           capture_output=True, text=True, timeout=30)
        return p.returncode == 0

    def _start_rabbitmq(self) -> None:
        t = time.monotonic()
        d = self.root / "rabbitmq"
        (d / "home").mkdir(parents=True)
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.ports['amqp']}\nloopback_users = none\n")
        (d / "enabled_plugins").write_text("[].\n")
        (d / "rabbitmq-env.conf").write_text("")
        env = {
            "HOME": str(d / "home"),  # the Erlang cookie
            "RABBITMQ_NODENAME": f"realos-{self.ports['amqp']}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.ports["amqp"]),
            "RABBITMQ_DIST_PORT": str(self.ports["dist"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.ports["epmd"]),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(d / "pid"),
            # The distribution port listens on every interface unless told otherwise.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        # Our own epmd in the foreground, so it is ours to stop (the broker would daemonise one).
        self.spawn("epmd", ["epmd", "-address", "127.0.0.1", "-port", str(self.ports["epmd"])], env=env)
        self.spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env)
        self.rabbit_env = env

        def listening() -> bool:
            with socket.create_connection(("127.0.0.1", self.ports["amqp"]), timeout=2) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                return s.recv(8).startswith(b"\x01\x00\x00")  # connection.start frame

        self.wait_for("rabbitmq", listening, 90, ("rabbitmq",))
        self._timed("rabbitmq", t)
