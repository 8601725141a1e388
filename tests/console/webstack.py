"""Icinga Web 2 on loopback, from Debian 12's own packages, on a throw-away tree.

    MariaDB (mariadbd)  ← icingadb (the daemon) ← Redis ← icinga2 (IcingaDB feature)
    MariaDB             ← Icinga Web 2 (php -S) with the icingadb module, a test user in its own database

Every daemon runs as a child of the test (own session, stopped by pid), with its state, logs and config
below `root`. Icinga Web 2 reads its configuration from ICINGAWEB_CONFIGDIR: nothing in /etc is used.

Why Icinga DB and not the IDO: Debian 12 ships icinga2 2.13.6, icingadb 1.1.0 and icingadb-web 1.0.2, which
work together; the IDO's monitoring module is deprecated upstream and counts an unreachable host as an
unhandled problem, which is not what a NOC sees in a current Icinga Web 2.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from harness.needs import not_run
from icinga_e2e import ICINGA2, Icinga2, free_port, stop_process, wait_for

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
ICINGADB = shutil.which("icingadb") or "/usr/sbin/icingadb"
PHP = shutil.which("php") or "/usr/bin/php"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WEB_ROOT = Path("/usr/share/icingaweb2")
ICINGADB_SCHEMA = Path("/usr/share/icingadb/schema/mysql/schema.sql")
#: What the fixture needs, and the Debian package that provides it.
NEEDS = {MARIADBD: "mariadb-server", REDIS: "redis-server", ICINGADB: "icingadb", PHP: "php-cli",
         str(WEB_ROOT / "public" / "index.php"): "icingaweb2",
         str(WEB_ROOT / "modules" / "icingadb"): "icingadb-web", CHROMIUM: "chromium",
         CHROMEDRIVER: "chromium-driver"}
APT_PACKAGES = ("mariadb-server redis-server icingadb icingadb-web icingaweb2 php-cli php-mysql php-curl "
                "php-intl php-gd php-mbstring php-xml chromium chromium-driver")

DB_USER = "icinga"
DB_PASSWORD = "console-not-a-secret"
WEB_USER = "noc"
WEB_PASSWORD = "noc-not-a-secret"


def missing() -> list[str]:
    """The files of NEEDS that are not installed, with their package."""
    return [f"{path} ({pkg})" for path, pkg in NEEDS.items() if not Path(path).exists()]


def require_installed(suite: str, gaps: list[str], apt_packages: str) -> None:
    """Nothing when `gaps` (missing files with their package, as missing() lists them) is empty; else the
    suite fails under CI=true and is skipped elsewhere, naming what to install."""
    if not gaps:
        return
    not_run(suite, f"missing {', '.join(gaps)} (apt-get install {apt_packages})")


def icinga2_missing() -> list[str]:
    """The icinga2 binary, if it is not installed, in missing()'s form."""
    return [] if os.access(ICINGA2, os.X_OK) else [f"{ICINGA2} (icinga2)"]


class Daemons:
    """Processes started by this harness, stopped in reverse order (by pid)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        out.close()
        self.procs.append((name, proc))
        return proc

    def alive(self, name: str) -> bool:
        for n, p in self.procs:
            if n == name and p.poll() is not None:
                raise AssertionError(f"{name} exited with {p.returncode}:\n{self.tail(name)}")
        return True

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"

    def all_tails(self) -> str:
        return "".join(self.tail(n) for n, _ in self.procs)

    def stop(self) -> None:
        while self.procs:
            _, proc = self.procs.pop()
            stop_process(proc, grace=10)


class MariaDB:
    """A throw-away mariadbd on 127.0.0.1 (as tests/realopenstack/stack.py starts it)."""

    def __init__(self, daemons: Daemons) -> None:
        self.d = daemons
        self.dir = daemons.root / "mysql"
        self.sock = str(self.dir / "sock")
        self.port = free_port()

    def start(self) -> MariaDB:
        self.dir.mkdir()
        p = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.dir / 'data'}", "--user=root",
                            "--auth-root-authentication-method=normal", "--skip-test-db"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"mariadb-install-db failed:\n{p.stdout}{p.stderr}"
        self.d.spawn("mariadb", [
            MARIADBD, "--no-defaults", f"--datadir={self.dir / 'data'}", "--user=root", "--bind-address=127.0.0.1",
            f"--port={self.port}", f"--socket={self.sock}", f"--pid-file={self.dir / 'pid'}",
            "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"])
        wait_for(lambda: self.d.alive("mariadb") and Path(self.sock).exists() and self.sql("SELECT 1", check=False),
                 60, "mariadbd")
        return self

    def sql(self, statements: str, db: str = "", check: bool = True, stdin: str | None = None) -> bool:
        argv = ["mariadb", "--no-defaults", "-S", self.sock, "-uroot"]
        if statements:
            argv += ["-e", statements]
        if db:
            argv.append(db)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60, input=stdin)
        if check:
            assert p.returncode == 0, f"mariadb {statements[:80] or db}: {p.stderr}"
        return p.returncode == 0

    def create(self, db: str, schema: Path) -> None:
        """A database with the schema loaded, and DB_USER allowed in it over TCP."""
        self.sql(f"CREATE DATABASE {db} CHARACTER SET utf8mb4; "
                 f"CREATE USER IF NOT EXISTS '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}'; "
                 f"GRANT ALL ON {db}.* TO '{DB_USER}'@'127.0.0.1'")
        self.sql("", db=db, stdin=schema.read_text())


class ConsoleIcinga2(Icinga2):
    """The e2e Icinga 2 with its IcingaDB feature writing to our Redis."""

    redis_port = 0

    def write_config(self) -> Path:
        path = super().write_config()
        with path.open("a") as f:
            f.write(f'\nobject IcingaDB "icingadb" {{\n  host = "127.0.0.1"\n  port = {self.redis_port}\n}}\n')
        return path


class WebStack:
    """MariaDB, Redis, the icingadb daemon and Icinga Web 2 (php -S); icinga2 itself is the caller's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.d = Daemons(root)
        self.db = MariaDB(self.d)
        self.redis_port = free_port()
        self.web_port = free_port()
        self.config_dir = root / "icingaweb2"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_backend(self) -> WebStack:
        """MariaDB with the Icinga DB and Icinga Web 2 schemas, and Redis: what icinga2 and icingadb need."""
        self.db.start()
        self.db.create("icingadb", ICINGADB_SCHEMA)
        self.db.create("icingaweb", WEB_ROOT.parent / "icingaweb2" / "schema" / "mysql.schema.sql")
        redis_dir = self.root / "redis"
        redis_dir.mkdir()
        self.d.spawn("redis", [REDIS, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "",
                               "--appendonly", "no", "--dir", str(redis_dir), "--protected-mode", "no"])
        wait_for(lambda: self.d.alive("redis") and _port_open(self.redis_port), 30, "redis-server")
        return self

    def start_icingadb(self) -> None:
        """The icingadb daemon: Redis → MariaDB (icinga2 must be running with its IcingaDB feature)."""
        conf = self.root / "icingadb.yml"
        conf.write_text(f"""database:
  type: mysql
  host: 127.0.0.1
  port: {self.db.port}
  database: icingadb
  user: {DB_USER}
  password: {DB_PASSWORD}
redis:
  host: 127.0.0.1
  port: {self.redis_port}
logging:
  level: info
""")
        self.d.spawn("icingadb", [ICINGADB, "--config", str(conf)])

    def wait_synced(self, host: str, timeout: float = 60) -> None:
        """Until icingadb has written `host` to the database (the first full sync is done)."""
        def synced() -> bool:
            self.d.alive("icingadb")
            p = subprocess.run(["mariadb", "--no-defaults", "-S", self.db.sock, "-uroot", "-N", "-e",
                                f"SELECT COUNT(*) FROM host WHERE name = '{host}'", "icingadb"],
                               capture_output=True, text=True, timeout=30)
            return p.returncode == 0 and p.stdout.strip() == "1"
        wait_for(synced, timeout, f"icingadb to sync host {host}", interval=0.5)

    def start_web(self) -> None:
        """Icinga Web 2 under `php -S`, configured in ICINGAWEB_CONFIGDIR with a test user and the icingadb module."""
        c = self.config_dir
        (c / "enabledModules").mkdir(parents=True)
        (c / "modules" / "icingadb").mkdir(parents=True)
        (c / "enabledModules" / "icingadb").symlink_to(WEB_ROOT / "modules" / "icingadb")
        db = f'type = "db"\ndb = "mysql"\nhost = "127.0.0.1"\nport = "{self.db.port}"\n' \
             f'username = "{DB_USER}"\npassword = "{DB_PASSWORD}"\ncharset = "utf8mb4"\n'
        (c / "resources.ini").write_text(f'[icingaweb_db]\n{db}dbname = "icingaweb"\n\n'
                                         f'[icingadb]\n{db}dbname = "icingadb"\n')
        (c / "config.ini").write_text('[global]\nshow_stacktraces = "1"\nconfig_resource = "icingaweb_db"\n\n'
                                      '[logging]\nlog = "php"\nlevel = "ERROR"\n')
        (c / "authentication.ini").write_text('[icingaweb2]\nbackend = "db"\nresource = "icingaweb_db"\n')
        (c / "roles.ini").write_text(f'[admins]\nusers = "{WEB_USER}"\npermissions = "*"\n')
        (c / "modules" / "icingadb" / "config.ini").write_text('[icingadb]\nresource = "icingadb"\n')
        (c / "modules" / "icingadb" / "redis.ini").write_text(f'[redis1]\nhost = "127.0.0.1"\n'
                                                              f'port = "{self.redis_port}"\n')
        pw = subprocess.run([PHP, "-r", "echo password_hash(getenv('PW'), PASSWORD_DEFAULT);"],
                            env={"PW": WEB_PASSWORD}, capture_output=True, text=True, timeout=30, check=True).stdout
        self.db.sql(f"INSERT INTO icingaweb_user (name, active, password_hash) VALUES ('{WEB_USER}', 1, '{pw}')",
                    db="icingaweb")
        router = self.root / "router.php"
        router.write_text(_ROUTER.replace("@PUBLIC@", str(WEB_ROOT / "public")))
        env = {"ICINGAWEB_CONFIGDIR": str(c), "PATH": "/usr/bin:/bin"}
        self.d.spawn("php", [PHP, "-d", "variables_order=EGPCS", "-S", f"127.0.0.1:{self.web_port}",
                             "-t", str(WEB_ROOT / "public"), str(router)], env=env, cwd=WEB_ROOT / "public")
        wait_for(lambda: self.d.alive("php") and _port_open(self.web_port), 30, "php -S")

    def stop(self) -> None:
        self.d.stop()


# php -S: existing files under public/ are served as they are; everything else goes to Icinga Web 2.
_ROUTER = """<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/' && is_file('@PUBLIC@' . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = '@PUBLIC@/index.php';
require '@PUBLIC@/index.php';
"""


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
