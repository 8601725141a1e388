"""What a judge returns: findings with states, performance data and long-output lines.

Judges are pure functions of inventory records, options and `now`; the check executables (and any
later bulk pusher) turn a Verdict into plugin output, so the same object gets the same verdict either way.
"""

from __future__ import annotations

import enum
import functools

from nagiosplugin import Range

from vio_checks.model import FrozenRecord, Record


class State(enum.IntEnum):
    """Nagios states, with their exit codes."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def rank(self) -> int:
        """Severity order for "worst of": OK < UNKNOWN < WARNING < CRITICAL."""
        return {0: 0, 3: 1, 1: 2, 2: 3}[self.value]


def worst(states) -> State:
    """The most severe of some states (OK when there are none)."""
    return max(states, key=lambda s: s.rank, default=State.OK)


class Finding(Record):
    """One evaluated condition, e.g. (CRITICAL, "web-01 is ERROR: No valid host was found")."""

    def __init__(self, state: State, text: str) -> None:
        self.state = state
        self.text = text


class Perf(Record):
    """One performance-data value; warn/crit are Nagios range strings."""

    def __init__(self, label: str, value: float, uom: str = "", warn: str | None = None,
                 crit: str | None = None, min: float | None = None, max: float | None = None) -> None:
        self.label = label
        self.value = value
        self.uom = uom
        self.warn = warn
        self.crit = crit
        self.min = min
        self.max = max


class Verdict(Record):
    """The judged state of one object or a set of objects."""

    def __init__(self, findings: list[Finding] | None = None, perf: list[Perf] | None = None,
                 details: list[str] | None = None, unverified: bool = False) -> None:
        self.findings = [] if findings is None else findings
        self.perf = [] if perf is None else perf
        self.details = [] if details is None else details
        self.unverified = unverified  # the object's real state could not be verified (e.g. its host is down)
        self.rule: str | None = None  # which rule set the state, when not the object's own record (-v)
        #: why it is unverified, as data for the aggregate's status line: its down reporter ("hypervisor
        #: domain-c8 down") or what the API left out ("Nova reported no status"); never parsed from text
        self.cause: str | None = None

    @property
    def state(self) -> State:
        return worst(f.state for f in self.findings)

    @property
    def summary(self) -> str:
        """The worst findings' texts (all findings when everything is OK)."""
        state = self.state
        texts = [f.text for f in self.findings if f.state == state]
        return "; ".join(texts)

    def add(self, state: State, text: str) -> None:
        self.findings.append(Finding(state, text))


def parse_range(text: str | None) -> Range | None:
    """A Nagios range (`80`, `10:`, `~:10`, `@10:20`), or None for no threshold. Raises ValueError.

    Parsed once per distinct text (cached): judges run thousands of times per process in bulk mode.
    """
    if text is None or str(text).strip() == "":
        return None
    return _parse(str(text).strip())


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> Range:
    return Range(text)


def check_range(value: float, warn: Range | None, crit: Range | None) -> State:
    """The state of a value against optional warning and critical ranges (critical first)."""
    if crit is not None and not crit.match(value):
        return State.CRITICAL
    if warn is not None and not warn.match(value):
        return State.WARNING
    return State.OK


def range_text(r: Range | None) -> str | None:
    """The range as Nagios perfdata wants it, or None."""
    return None if r is None else str(r)


class Threshold(FrozenRecord):
    """A warning and a critical range, parsed when the options are built, applied by `state()`."""

    def __init__(self, warn: Range | None = None, crit: Range | None = None) -> None:
        self.__dict__.update(warn=warn, crit=crit)

    @classmethod
    def parse(cls, warning: str | None, critical: str | None) -> Threshold:
        """From Nagios range texts (None or "" for none). Raises ValueError for a malformed one."""
        return cls(parse_range(warning), parse_range(critical))

    def state(self, value: float) -> State:
        """CRITICAL outside the critical range, else WARNING outside the warning range, else OK."""
        return check_range(value, self.warn, self.crit)

    @property
    def warn_text(self) -> str | None:
        return range_text(self.warn)

    @property
    def crit_text(self) -> str | None:
        return range_text(self.crit)
