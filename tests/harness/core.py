"""What the Icinga 2 and Nagios 4 harnesses share: one object as the core sees it (Obj), and Core, the
driving loop (check parents before children until HARD), passive rounds (`vio-icinga push`), the
notification log and queries by the generated objects' custom vars.

Nothing here knows the generator's internals: which object is which comes from the custom vars the
generated objects carry (vars.vio_kind, vio_compute_host, vio_id ...), read back from the core.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import needs
from .process import stop_process, wait_for
from .scenario import HARD

REPO = Path(__file__).resolve().parents[2]
ICINGA_DIR = REPO / "icinga"
#: The venv's bin directory: the check executables the cores run.
BIN = Path(sys.executable).parent
#: The Nagios plugins directory (check_dummy) the generated config may name.
CHECK_DUMMY_DIR = Path("/usr/lib/nagios/plugins")
IN_CI = needs.IN_CI

API_USER = "e2e"
API_PASSWORD = "e2e-not-a-secret"


def require(binary: str, packages: str) -> None:
    """Skip loudly when a monitoring core is not installed; in CI (CI=true) that is a failure."""
    needs.binary(binary, packages, "END-TO-END")


def not_run(why: str) -> None:
    """Skip loudly, saying why the end-to-end tests cannot run here; in CI (CI=true) that is a failure."""
    needs.not_run("END-TO-END", why)


@dataclass
class Obj:
    """One host or service as the core sees it."""

    name: str  # host name, or host!service
    type: str  # "Host" / "Service"
    state: int
    state_type: int
    reachable: bool
    last_check: float
    output: str
    vars: dict = field(default_factory=dict)
    attempt: int = 1
    checked: bool = True

    @property
    def host(self) -> str:
        return self.name.split("!", 1)[0]

    @property
    def problem(self) -> bool:
        return self.state != 0

    @property
    def hard(self) -> bool:
        return self.state_type == HARD

    def __str__(self) -> str:
        kind = "HARD" if self.hard else "SOFT"
        reach = "reachable" if self.reachable else "UNREACHABLE"
        return f"{self.name}: state {self.state} {kind} {reach} - {self.output.splitlines()[0] if self.output else ''}"


class Core:
    """What the Icinga 2 and Nagios 4 harnesses share: the driving loop and the notification log."""

    notify_log: Path
    timings: dict[str, float]
    root: Path
    proc: subprocess.Popen | None = None
    LOGS: tuple[str, ...] = ()  # files below root whose tail explains a failure

    # the daemon's lifecycle
    def start(self) -> Core:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def __enter__(self) -> Core:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in self.LOGS:
            path = self.root / name
            if path.exists():
                text += f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    # implemented by each core
    def objects(self) -> dict[str, Obj]:
        raise NotImplementedError

    def parents(self) -> dict[str, set[str]]:
        raise NotImplementedError

    def force(self, names: list[str]) -> None:
        raise NotImplementedError

    # shared

    def levels(self) -> list[list[str]]:
        """Every object by depth in the dependency graph (roots first): the order to check them in."""
        if getattr(self, "_levels", None) is None:
            self._levels = self._compute_levels()
        return self._levels

    def _compute_levels(self) -> list[list[str]]:
        parents = self.parents()
        depth: dict[str, int] = {}

        def d(name: str, seen: frozenset = frozenset()) -> int:
            if name not in depth:
                assert name not in seen, f"dependency cycle through {name}"
                depth[name] = 1 + max((d(p, seen | {name}) for p in parents.get(name, ())), default=-1)
            return depth[name]

        for name in self.last_checks():
            d(name)
        out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name, level in depth.items():
            out[level].append(name)
        return [sorted(level) for level in out]

    def last_checks(self) -> dict[str, float]:
        """name → time of its last check result (cheaper than objects() where a core allows)."""
        return {n: o.last_check for n, o in self.objects().items()}

    def check(self, names: list[str], timeout: float = 60) -> dict[str, Obj]:
        """Force one check of each object now and wait for all results."""
        last = self.last_checks()
        missing = set(names) - set(last)
        assert not missing, f"not in the core: {sorted(missing)}"
        before = {n: last[n] for n in names}
        self.force(names)

        def done():
            now = self.last_checks()
            return all(now[n] > before[n] for n in names)

        wait_for(done, timeout, f"check results of {len(names)} objects", interval=0.1)
        return self.objects()

    def settle(self, names: list[str], max_rounds: int = 12) -> None:
        """Check the objects until each is OK or in a HARD problem state."""
        pending = list(names)
        for _ in range(max_rounds):
            if not pending:
                return
            objs = self.check(pending)
            pending = [n for n in pending if objs[n].problem and not objs[n].hard]
        raise AssertionError(f"still SOFT after {max_rounds} checks: {pending}")

    def drive(self, only: Iterable[str] | None = None) -> dict[str, Obj]:
        """Every check (or those named), parents first, each until HARD; then the notifications' settling."""
        start = time.monotonic()
        wanted = set(only) if only is not None else None
        for level in self.levels():
            names = [n for n in level if wanted is None or n in wanted]
            if names:
                self.settle(names)
        self.quiet()
        self.timings.setdefault("drive", 0.0)
        self.timings["drive"] += time.monotonic() - start
        return self.objects()

    # passive mode: results come from `vio-icinga push`

    def push_args(self) -> list[str]:
        """Where `vio-icinga push` sends this core's results."""
        raise NotImplementedError

    def push(self, cloud, *extra: str) -> int:
        """One `vio-icinga push --once` round; returns how many results it sent, once the core took them."""
        t0 = time.monotonic()
        r = cloud.run("vio-icinga", "push", "--once", *self.push_args(), *extra,
                      env={"VIO_ICINGA_API_PASSWORD": API_PASSWORD})
        assert r.rc in (0, 3) and r.stdout.startswith("vio-icinga push: "), f"vio-icinga push:\n{r}"
        assert "Traceback" not in r.stderr, str(r)
        sent = int(r.stdout.split()[4])
        self.taken(sent)
        self.timings["push"] = self.timings.get("push", 0.0) + time.monotonic() - t0
        return sent

    def taken(self, sent: int) -> None:
        """Wait until the core has processed the last round's results (Icinga 2's API: already done)."""

    def push_drive(self, cloud, *extra: str, max_rounds: int = 10) -> dict[str, Obj]:
        """Push rounds until no object is in a SOFT problem state (problems are resent every round, so each
        round is one more check attempt); then the notifications' settling."""
        for _ in range(max_rounds):
            self.push(cloud, *extra)
            objs = self.objects()
            if not [o for o in objs.values() if o.problem and not o.hard] and all(o.checked for o in objs.values()):
                self.quiet()
                return self.objects()
        raise AssertionError(f"still SOFT or unchecked after {max_rounds} push rounds:\n{self.report()}")

    def quiet(self, stable: float = 0.25, timeout: float = 15) -> list[str]:
        """Wait until the notification log has stopped growing (notification commands run asynchronously)."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            current = self.notifications()
            if current != last:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= stable:
                return current
            time.sleep(0.1)
        return last or []

    def notifications(self) -> list[str]:
        """One line per notification sent: `host TYPE STATE` or `host!service TYPE STATE`."""
        try:
            return [line for line in self.notify_log.read_text().splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def notified(self, kind: str = "PROBLEM") -> list[str]:
        """The object names that got a notification of this type."""
        return sorted({line.split()[0] for line in self.notifications() if line.split()[1:2] == [kind]})

    def clear_notifications(self) -> None:
        self.notify_log.write_text("")

    # queries by the generated objects' custom vars

    def find(self, kind: str | None = None, **vars_) -> list[Obj]:
        """Objects whose vars.vio_kind is `kind` and whose vars.<key> equal the given values."""
        out = []
        for obj in self.objects().values():
            if kind is not None and obj.vars.get("vio_kind") != kind:
                continue
            if all(obj.vars.get(k) == v for k, v in vars_.items()):
                out.append(obj)
        return sorted(out, key=lambda o: o.name)

    def one(self, kind: str, **vars_) -> Obj:
        found = self.find(kind, **vars_)
        assert len(found) == 1, f"expected one {kind} with {vars_}, found {[o.name for o in found]}"
        return found[0]

    def below(self, name: str) -> list[Obj]:
        """Every object that depends on `name`, transitively (services of a host included)."""
        parents = self.parents()
        children: dict[str, set[str]] = {}
        for child, ps in parents.items():
            for p in ps:
                children.setdefault(p, set()).add(child)
        seen: set[str] = set()
        stack = [name]
        while stack:
            for c in children.get(stack.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        objs = self.objects()
        return sorted((objs[n] for n in seen), key=lambda o: o.name)

    def report(self) -> str:
        """Every object and the notification log, for assertion messages."""
        lines = [str(o) for o in sorted(self.objects().values(), key=lambda o: o.name)]
        return "\n".join(lines + ["notifications:", *self.notifications()])
