"""Datastore accessibility and free space (vCenter's Datastore), pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from vio_checks.judge.verdict import Perf, State, Threshold, Verdict
from vio_checks.model import unreported
from vio_checks.text import counted, inert

GIB = 1024 ** 3


@dataclass(frozen=True)
class DatastoreOptions:
    """Free space in % of capacity: WARNING / CRITICAL outside these ranges (defaults 15:, 5:)."""

    free: Threshold = field(default_factory=lambda: Threshold.parse("15:", "5:"))


def _size(n: int) -> str:
    return f"{n / GIB:.1f} GiB" if n < 1024 * GIB else f"{n / GIB / 1024:.2f} TiB"


def judge_datastore(d, opts: DatastoreOptions = DatastoreOptions()) -> Verdict:
    """One datastore (a records.Datastore): accessible, and free space against the thresholds."""
    v = Verdict()
    label = inert(d.name) or inert(d.moref)
    missing = unreported(d)
    if missing:
        v.unverified, v.cause = True, missing
        v.add(State.UNKNOWN, f"datastore {label}: {missing}: state unverified")
    if d.accessible is False:
        v.add(State.CRITICAL, f"datastore {label} is not accessible")
    elif d.accessible is None and not missing:
        v.unverified, v.cause = True, "vCenter reported no accessibility"
        v.add(State.UNKNOWN, f"datastore {label}: vCenter reported no accessibility: state unverified")
    elif d.accessible is not True and not missing:  # only a real True is known-good
        v.unverified, v.cause = True, "vCenter reported an undocumented accessibility"
        v.add(State.UNKNOWN, f"datastore {label}: vCenter reported accessible as "
                             f"{inert(repr(d.accessible), 60)}: state unverified")
    pct = None
    if d.capacity and d.free is not None:
        pct = d.free * 100.0 / d.capacity
        state = opts.free.state(pct)
        text = f"datastore {label}: {pct:.0f} % free ({_size(d.free)} of {_size(d.capacity)})"
        if d.accessible is True:
            v.add(state, text)
        v.perf += [
            Perf("free", round(pct, 1), "%", opts.free.warn_text, opts.free.crit_text, 0, 100),
            Perf("free_bytes", d.free, "B", None, None, 0, d.capacity),
            Perf("used_bytes", d.capacity - d.free, "B", None, None, 0, d.capacity),
        ]
    elif not v.findings:
        v.unverified, v.cause = True, "vCenter reported no capacity or free space"
        v.add(State.UNKNOWN, f"datastore {label}: vCenter reported no capacity or free space")
    if d.alarms:
        v.details.append("alarms: " + ", ".join(inert(a, 80) for a in d.alarms))
    mounted = sum(1 for m in d.mounts if m.mounted and m.accessible)
    v.details.append(f"datastore {inert(d.name)} (moref {inert(d.moref)}, type {inert(d.type) or '?'}), "
                     f"mounted and accessible on {mounted} of {counted(len(d.mounts), 'hosts')}")
    return v


def on_datastore(v: Verdict, volume, d) -> Verdict:
    """A volume's verdict told with the datastore holding its VMDK (`d`: a records.Datastore).

    An inaccessible datastore is the volume's own failure, known from vCenter: CRITICAL naming it, whatever
    Cinder last said (so never "unverified"). Otherwise the datastore is only named in the long output.
    """
    label = inert(d.name) or inert(d.moref)
    if d.accessible is False:
        v.unverified = False
        v.add(State.CRITICAL, f"{inert(volume.name) or inert(volume.id)} is on datastore {label}, "
                              "which is not accessible")
    access = {True: "accessible", False: "not accessible"}.get(d.accessible, "accessibility not reported")
    v.details.append(f"on datastore {label} (moref {inert(d.moref)}): {access}")
    return v
