"""Icinga Director (Debian 12's icingaweb2-module-director 1.10) on a throw-away tree, driven by icingacli.

    MariaDB ← Director's database (its own schema), read and written by `icingacli director ...`
    php -S  → the export file on loopback, read by Director's REST API import source
    Director → the test's Icinga 2 (config packages API), set up by `icingacli director kickstart`

Icinga Web 2 reads its configuration from ICINGAWEB_CONFIGDIR (nothing in /etc is used); no web server is
needed for Director itself: every step runs through icingacli, as README shows it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from icinga_e2e import API_PASSWORD, API_USER, ICINGA_DIR, NODE, Icinga2, free_port, wait_for

from .webstack import DB_PASSWORD, DB_USER, PHP, WEB_ROOT, Daemons, MariaDB, _port_open

ICINGACLI = "/usr/bin/icingacli"
DIRECTOR = WEB_ROOT / "modules" / "director"
#: What Director needs besides the console stack, and the Debian package that provides it.
NEEDS = {str(DIRECTOR / "module.info"): "icingaweb2-module-director", ICINGACLI: "icingacli"}
APT_PACKAGES = "icingaweb2-module-director icingacli mariadb-server php-cli php-mysql php-curl"
#: The modules Director 1.10 depends on (Debian installs them with it).
MODULES = ("director", "incubator", "reactbundle")


def missing() -> list[str]:
    """The files Director's tests need that are not installed, with their package."""
    return [f"{path} ({pkg})" for path, pkg in NEEDS.items() if not Path(path).exists()]


class DirectorIcinga2(Icinga2):
    """The e2e Icinga 2 as a Director site has it: no commands.conf / templates.conf (the basket brings them),
    the global zone Director deploys templates to, and the shipped dependency apply rules."""

    def write_config(self) -> Path:
        path = super().write_config()
        text = path.read_text()
        for name in ("commands.conf", "templates.conf"):
            line = f'include "{ICINGA_DIR / name}"\n'
            assert line in text, f"the e2e config no longer includes {name}"
            text = text.replace(line, "")
        # kickstart imports the endpoint and then reaches Icinga through its host and port (default 5665)
        endpoint = f'object Endpoint "{NODE}" {{ }}'
        assert endpoint in text, "the e2e config's endpoint changed"
        text = text.replace(endpoint, f'object Endpoint "{NODE}" {{ host = "127.0.0.1"; port = {self.port} }}')
        text += ('\nobject Zone "director-global" { global = true }\n'
                 f'include "{ICINGA_DIR / "director" / "vio-dependencies.conf"}"\n')
        path.write_text(text)
        return path


class Director:
    """Director's database, its configuration, icingacli, and a loopback HTTP server for the export file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.d = Daemons(root)
        self.db = MariaDB(self.d)
        self.config_dir = root / "icingaweb2"
        self.files = root / "files"
        self.http_port = free_port()

    def import_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/{name}"

    def start(self, icinga: Icinga2) -> Director:
        """Database with Director's schema, configuration, the file server, then kickstart against `icinga`."""
        self.db.start()
        self.db.create("director", DIRECTOR / "schema" / "mysql.sql")
        c = self.config_dir
        (c / "enabledModules").mkdir(parents=True)
        for module in MODULES:
            (c / "enabledModules" / module).symlink_to(WEB_ROOT / "modules" / module)
        (c / "modules" / "director").mkdir(parents=True)
        (c / "resources.ini").write_text(
            f'[director_db]\ntype = "db"\ndb = "mysql"\nhost = "127.0.0.1"\nport = "{self.db.port}"\n'
            f'username = "{DB_USER}"\npassword = "{DB_PASSWORD}"\ndbname = "director"\ncharset = "utf8"\n')
        (c / "config.ini").write_text('[logging]\nlog = "php"\nlevel = "ERROR"\n')
        (c / "modules" / "director" / "config.ini").write_text('[db]\nresource = "director_db"\n')
        (c / "modules" / "director" / "kickstart.ini").write_text(
            f'[config]\nendpoint = "{NODE}"\nhost = "127.0.0.1"\nport = "{icinga.port}"\n'
            f'username = "{API_USER}"\npassword = "{API_PASSWORD}"\n')
        self.files.mkdir()
        self.d.spawn("files", [PHP, "-S", f"127.0.0.1:{self.http_port}", "-t", str(self.files)],
                     env={"PATH": "/usr/bin:/bin"}, cwd=self.files)
        wait_for(lambda: self.d.alive("files") and _port_open(self.http_port), 30, "php -S (export files)")
        self.cli("migration", "run")
        self.cli("kickstart", "run")
        return self

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """`icingacli director ARGS` with this tree's configuration."""
        env = {**os.environ, "ICINGAWEB_CONFIGDIR": str(self.config_dir)}
        p = subprocess.run([ICINGACLI, "director", *args], input=stdin, capture_output=True, text=True,
                           env=env, timeout=300)
        if check:
            assert p.returncode == 0, f"icingacli director {' '.join(args)} exited {p.returncode}:\n" \
                                      f"{p.stdout}{p.stderr}"
        return p

    def stop(self) -> None:
        self.d.stop()
