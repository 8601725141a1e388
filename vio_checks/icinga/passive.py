"""Passive mode: what the generated objects (`vio-icinga generate --mode passive`) and the pusher
(`vio-icinga push`) agree on, so nothing is lost when the pusher stops.

In passive mode no object runs a check executable. Each object's check command is Icinga's own `dummy`
(Nagios: `check_dummy`) answering UNKNOWN "no result from vio-icinga push for N min", and it runs only
when the object's result is older than its freshness:

- every object but the cloud host: the pusher's `ttl` (each object is resent at least every ttl/2, and at
  once when its result changes; problems are resent every round);
- the cloud host, the root of the tree: `heartbeat` = 3 push intervals (it is resent every round), so when
  the pusher stops the cloud host turns DOWN first and everything below it is unreachable: one
  notification says the pusher stopped, instead of one per object.

Icinga 2 runs an object's check command when a passive result's `ttl` expires (Checkable::ProcessCheckResult
sets next_check = now + ttl), and re-checks a parent at once when a child changes state unless the parent's
next check is less than its retry_interval away: the retry_interval is therefore the freshness plus one
second, so a child's result never triggers its parent's dummy. Nagios 4 runs the check command of a stale
object (check_freshness, freshness_threshold) even with active checks disabled.

The pusher also serves active objects (the default mode), where the same `ttl` postpones the object's next
run of its executable: `result_ttl` keeps that to OK results, and a problem's result never postpones the
next check beyond the object's retry interval (the next check attempt, as if Icinga had run it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vio_checks import topology as t
from vio_checks.icinga.settings import RETRY_INTERVAL, TEMPLATES, template

MODES = ("active", "passive")
DEFAULT_INTERVAL = 60.0
DEFAULT_TTL = 600.0
#: The cloud host's freshness, in push intervals: two rounds may be late before it turns DOWN.
HEARTBEAT_ROUNDS = 3
#: The exit code of the stale check: UNKNOWN (a host shows it as DOWN).
STALE_STATE = 3


@dataclass(frozen=True)
class Passive:
    """The push interval and ttl the generated objects are built for (seconds)."""

    interval: float = DEFAULT_INTERVAL
    ttl: float = DEFAULT_TTL

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("the push interval must be positive")
        if self.ttl < 2 * self.interval:
            raise ValueError(f"the push ttl ({self.ttl:g} s) must be at least twice the push interval "
                             f"({self.interval:g} s): every object is resent every ttl/2")

    @property
    def heartbeat(self) -> int:
        """The cloud host's freshness: HEARTBEAT_ROUNDS intervals (never more than the ttl)."""
        return math.ceil(min(self.ttl, HEARTBEAT_ROUNDS * self.interval))

    def freshness(self, kind: str) -> int:
        """How long (s) a node of this kind keeps its last pushed result before it turns UNKNOWN."""
        return self.heartbeat if kind == t.CLOUD else math.ceil(self.ttl)

    def retry(self, kind: str) -> int:
        """retry_interval: past the freshness, so a child's state change never re-checks this object."""
        return self.freshness(kind) + 1

    def text(self, kind: str) -> str:
        """The stale check's output."""
        return f"no result from vio-icinga push for {span(self.freshness(kind))}"


def result_ttl(settings: Passive, kind: str | None, problem: bool, mode: str) -> int:
    """The `ttl` of a pushed result of a node of this kind (None: not known, e.g. an object pushed before
    the inventory was lost). Icinga 2 sets the object's next check to now + ttl. Passive objects: their
    freshness. Active objects: the same for an OK result (push keeps the executables from running while
    it runs); for a problem (not OK / UP) at most the retry interval of the kind's template, so a pushed
    problem never delays the next check attempt (a fixed fault is seen as soon as Icinga would see it)."""
    ttl = settings.freshness(kind) if kind is not None else math.ceil(settings.ttl)
    if mode == "active" and problem:
        retry = template(TEMPLATES[kind]).retry_interval if kind in TEMPLATES else RETRY_INTERVAL
        return min(ttl, retry)
    return ttl


def template_name(prefix: str, kind: str) -> str:
    """The generated template a passive-mode object uses after its kind's: root (the cloud host), host
    or service; one set per cloud prefix, since clouds may be pushed at different intervals."""
    role = "root" if kind == t.CLOUD else "host" if kind in t.HOST_KINDS else "service"
    return f"{prefix}-passive-{role}"


#: One node kind per generated passive template (root, host, service), and its object type.
TEMPLATE_KINDS = ((t.CLOUD, "Host"), (t.VM, "Host"), (t.VOLUME, "Service"))


def span(seconds: float) -> str:
    """`10 min`, `1.5 min`, `45 s`: a freshness as people read it."""
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{seconds / 60:.1f}".removesuffix(".0") + " min"
