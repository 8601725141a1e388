"""A real Nagios 4 on a throw-away tree: `nagios4` in the foreground, the config `vio-icinga generate
--format nagios` writes, checks forced (and passive results taken) through its external command file,
states read from status.dat and objects.cache.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from .core import BIN, CHECK_DUMMY_DIR, ICINGA_DIR, Core, Obj
from .process import die_with_parent, notify_script, run_as_group, run_as_user, wait_for
from .scenario import DOWN, UP

NAGIOS4 = shutil.which("nagios4") or "/usr/sbin/nagios4"

#: status.dat block → our object type.
_NAGIOS_BLOCK = re.compile(r"^(hoststatus|servicestatus) \{\n(.*?)\n\t\}", re.S | re.M)


class Nagios4(Core):
    """`nagios4` in the foreground on a throw-away tree, driven through its external command file."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = dict(env)
        self.proc: subprocess.Popen | None = None
        self.notify_log = root / "notifications.log"
        self.generated = root / "objects" / "vio.cfg"
        self.timings: dict[str, float] = {}
        self._parents: dict[str, set[str]] | None = None
        self._vars: dict[str, dict] | None = None
        self._logged_before = 0

    @property
    def command_file(self) -> Path:
        return self.root / "nagios.cmd"

    @property
    def status_file(self) -> Path:
        return self.root / "status.dat"

    def generate(self, cloud, *extra: str) -> None:
        """`vio-icinga generate --format nagios` into the tree (before start, or followed by restart)."""
        self.generated.parent.mkdir(parents=True, exist_ok=True)
        r = cloud.run("vio-icinga", "generate", "--format", "nagios", "--output", str(self.generated), *extra)
        assert r.rc in (0, 1), f"vio-icinga generate failed:\n{r}"
        self._parents = self._vars = None

    def write_config(self) -> Path:
        root = self.root
        (root / "spool").mkdir(parents=True, exist_ok=True)
        notify = notify_script(root / "notify.sh", self.notify_log)
        # Our templates, commands and time period as shipped; the contact group the templates notify is the
        # site's to define (icinga/nagios/contacts.cfg is the example): here it writes to the log.
        (root / "contacts.cfg").write_text(f"""
define command {{
    command_name    e2e-notify-host
    command_line    {notify} $HOSTNAME$ $NOTIFICATIONTYPE$ $HOSTSTATE$
}}
define command {{
    command_name    e2e-notify-service
    command_line    {notify} $HOSTNAME$!$SERVICEDESC$ $NOTIFICATIONTYPE$ $SERVICESTATE$
}}
define contact {{
    contact_name                    e2e
    host_notification_period        vio-24x7
    service_notification_period     vio-24x7
    host_notification_options       d,u,r
    service_notification_options    w,u,c,r
    host_notification_commands      e2e-notify-host
    service_notification_commands   e2e-notify-service
}}
define contactgroup {{
    contactgroup_name   vio-admins
    members             e2e
}}
""")
        (root / "resource.cfg").write_text(f"$USER1$={CHECK_DUMMY_DIR}\n$USER5$={BIN}\n")
        cfg = [*(f"cfg_file={ICINGA_DIR / 'nagios' / f}" for f in ("commands.cfg", "templates.cfg", "timeperiods.cfg")),
               f"cfg_file={root / 'contacts.cfg'}", f"cfg_file={self.generated}",
               f"resource_file={root / 'resource.cfg'}",
               f"log_file={root / 'nagios.log'}", f"status_file={self.status_file}", "status_update_interval=1",
               f"object_cache_file={root / 'objects.cache'}", f"precached_object_file={root / 'objects.precache'}",
               f"temp_file={root / 'nagios.tmp'}", f"temp_path={root}", f"lock_file={root / 'nagios.lock'}",
               f"check_result_path={root / 'spool'}", "check_result_reaper_frequency=1",
               "max_check_result_reaper_time=2",
               "retain_state_information=0", f"state_retention_file={root / 'retention.dat'}",
               "check_external_commands=1", f"command_file={self.command_file}",
               f"nagios_user={run_as_user()}", f"nagios_group={run_as_group()}",
               # nothing on a timer: the tests force every check
               "execute_host_checks=0", "execute_service_checks=0", "enable_flap_detection=0",
               "enable_notifications=1", "process_performance_data=0", "enable_event_handlers=0",
               "use_syslog=0", "log_notifications=1", "log_initial_states=0", "interval_length=60",
               # host checks of an unreachable host's children: no cached results, no predictive checks
               "cached_host_check_horizon=0", "cached_service_check_horizon=0",
               "enable_predictive_host_dependency_checks=0", "enable_predictive_service_dependency_checks=0",
               "soft_state_dependencies=1", "use_aggressive_host_checking=0",
               # passive mode: a DOWN result of a host whose parent is down is UNREACHABLE (README)
               "translate_passive_host_checks=1", "passive_host_checks_are_soft=0", "log_passive_checks=1",
               "illegal_object_name_chars=`~!$%^&*|'\"<>?,()=",
               "illegal_macro_output_chars=`~$&|'\"<>"]
        path = root / "nagios.cfg"
        path.write_text("\n".join(cfg) + "\n")
        return path

    def start(self, timeout: float = 30) -> Nagios4:
        t0 = time.monotonic()
        cfg = self.write_config()
        p = subprocess.run([NAGIOS4, "-v", str(cfg)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"nagios4 -v rejected the config:\n{p.stdout}{p.stderr}"
        out = open(self.root / "daemon.out", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([NAGIOS4, str(cfg)], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=die_with_parent)
        out.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"nagios4 exited with {self.proc.returncode}:\n{self.log_tail()}")
            return self.command_file.exists() and self.status_file.exists() and self._status_blocks()

        wait_for(ready, timeout, "nagios4's command file and status.dat", interval=0.1)
        self.timings["start"] = time.monotonic() - t0
        return self

    LOGS = ("daemon.out", "nagios.log")

    def push_args(self) -> list[str]:
        return ["--command-file", str(self.command_file)]

    def _passive_logged(self) -> int:
        try:
            text = (self.root / "nagios.log").read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return len(re.findall(r"\] PASSIVE (?:HOST|SERVICE) CHECK: ", text))

    def push(self, cloud, *extra: str) -> int:
        self._logged_before = self._passive_logged()
        return super().push(cloud, *extra)

    def taken(self, sent: int) -> None:
        """Nagios reads the command file asynchronously: wait until its log shows every result, then for
        a status.dat written after that."""
        want = self._logged_before + sent
        wait_for(lambda: self._passive_logged() >= want, 30, f"nagios4 to log {sent} passive results")
        done = time.time()
        wait_for(lambda: self.status_file.stat().st_mtime > done, 10, "status.dat after the results")

    def command(self, *lines: str) -> None:
        now = int(time.time())
        with open(self.command_file, "w") as f:  # a FIFO: one write per batch
            f.write("".join(f"[{now}] {line}\n" for line in lines))

    def force(self, names: list[str]) -> None:
        now = int(time.time())
        lines = []
        for n in names:
            if "!" in n:
                host, svc = n.split("!", 1)
                lines.append(f"SCHEDULE_FORCED_SVC_CHECK;{host};{svc};{now}")
            else:
                lines.append(f"SCHEDULE_FORCED_HOST_CHECK;{n};{now}")
        self.command(*lines)

    # --- status.dat and objects.cache --------------------------------------------------------------

    def _status_blocks(self) -> list[tuple[str, dict[str, str]]]:
        try:
            text = self.status_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        blocks = []
        for m in _NAGIOS_BLOCK.finditer(text):
            fields = {}
            for line in m.group(2).splitlines():
                key, _, value = line.strip().partition("=")
                fields[key] = value
            blocks.append((m.group(1), fields))
        return blocks

    def _object_cache(self) -> tuple[dict[str, set[str]], dict[str, dict]]:
        """(parents, vars) from objects.cache: host parents, servicedependencies and a service's host."""
        if self._parents is None:
            text = (self.root / "objects.cache").read_text(errors="replace")
            parents: dict[str, set[str]] = {}
            vars_: dict[str, dict] = {}
            for m in re.finditer(r"^define (\w+) \{\n(.*?)\n\t\}", text, re.S | re.M):
                kind, body = m.group(1), m.group(2)
                f: dict[str, str] = {}
                for line in body.splitlines():
                    parts = line.strip().split(None, 1)
                    if parts:
                        f[parts[0]] = parts[1] if len(parts) > 1 else ""
                custom = {k[1:].lower(): v for k, v in f.items() if k.startswith("_")}
                if kind == "host":
                    name = f["host_name"]
                    parents[name] = set(filter(None, f.get("parents", "").split(",")))
                    vars_[name] = custom
                elif kind == "service":
                    name = f"{f['host_name']}!{f['service_description']}"
                    parents.setdefault(name, set()).add(f["host_name"])
                    vars_[name] = custom
                elif kind == "servicedependency":
                    child = f"{f['dependent_host_name']}!{f['dependent_service_description']}"
                    parents.setdefault(child, set()).add(f"{f['host_name']}!{f['service_description']}")
            self._parents, self._vars = parents, vars_
        return self._parents, self._vars or {}

    def parents(self) -> dict[str, set[str]]:
        return self._object_cache()[0]

    def objects(self) -> dict[str, Obj]:
        _, vars_ = self._object_cache()
        out: dict[str, Obj] = {}
        for block, f in self._status_blocks():
            if block == "hoststatus":
                name, type_ = f["host_name"], "Host"
                # Nagios: 0 UP, 1 DOWN, 2 UNREACHABLE; as Icinga: DOWN + not reachable
                raw = int(f["current_state"])
                state, reachable = (DOWN if raw else UP), raw != 2
            else:
                name, type_ = f"{f['host_name']}!{f['service_description']}", "Service"
                state, reachable = int(f["current_state"]), True
            out[name] = Obj(name, type_, state, int(f["state_type"]), reachable, float(f["last_check"]),
                            f.get("plugin_output", ""), vars_.get(name, {}), int(f.get("current_attempt", 1)),
                            checked=f.get("has_been_checked") == "1")
        return out

    def check(self, names: list[str], timeout: float = 60) -> dict[str, Obj]:
        # status.dat's last_check has one-second resolution: make sure a new check is a later second
        objs = self.objects()
        newest = max((objs[n].last_check for n in names if n in objs), default=0)
        while time.time() < newest + 1:
            time.sleep(0.05)
        return super().check(names, timeout)
