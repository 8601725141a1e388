"""A catalog endpoint's (or vCenter's) TLS certificate: days to expiry and verification, pure: no I/O.

Days are whole days left (rounded down, as `openssl x509 -checkend` users count them), judged against Nagios
ranges: WARNING outside `30:` (fewer than 30 days left), CRITICAL outside `7:` by default. An expired
certificate is CRITICAL whatever the ranges say, and so is one that no longer verifies against the
configured CA. An endpoint whose certificate could not be read (unreachable, no TLS, out of time) is UNKNOWN
naming it: never OK.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from vio_checks.judge.verdict import Perf, State, Threshold, Verdict
from vio_checks.model import unreported
from vio_checks.text import counted, inert

DAY = 86400.0
#: What certificates.py's verify_error starts with when the cloud config turns verification off.
VERIFICATION_OFF = "not verified: certificate verification is off"


@dataclass(frozen=True)
class CertificateOptions:
    """Whole days left: WARNING / CRITICAL outside these ranges (defaults 30:, 7:)."""

    days: Threshold = field(default_factory=lambda: Threshold.parse("30:", "7:"))


def expiry_date(ts: float) -> str:
    """The certificate's not-after as a UTC date, `2026-12-11`."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def _left(seconds: float, ts: float) -> str:
    """`in 5 days (2026-12-11)`; under a day the hours and the time: `in 10 h (2026-12-06 23:10 UTC)`."""
    if seconds >= DAY:
        return f"in {counted(int(seconds // DAY), 'days')} ({expiry_date(ts)})"
    when = dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"in {int(seconds // 3600)} h ({when})"


def judge_certificate(c, now: float, opts: CertificateOptions = CertificateOptions()) -> Verdict:
    """One endpoint's certificate (an optional_records.Certificate) at `now`."""
    v = Verdict()
    label = inert(c.name) or "?"
    services = ", ".join(inert(s, 40) for s in c.services) or "?"
    v.details.append(f"endpoint {label} ({services})")
    if c.error:
        v.add(State.UNKNOWN, f"{label}: no certificate read: {inert(c.error, 200)}")
        return v
    missing = unreported(c)
    if missing or c.not_after is None:
        v.unverified, v.cause = True, missing or "The endpoint reported no expiry date"
        v.add(State.UNKNOWN, f"{label}: {v.cause}: certificate unverified")
        return v
    seconds = c.not_after - now
    days = int(seconds // DAY)  # whole days left (negative once expired)
    if seconds <= 0:
        ago = -seconds
        since = counted(int(ago // DAY), "days") if ago >= DAY else f"{int(ago // 3600)} h"
        v.add(State.CRITICAL, f"{label} certificate expired {since} ago ({expiry_date(c.not_after)})")
    else:
        v.add(opts.days.state(days), f"{label} expires {_left(seconds, c.not_after)}")
    v.perf.append(Perf("days", days, "", opts.days.warn_text, opts.days.crit_text))
    why = inert(c.verify_error, 200) if c.verify_error else None
    if c.verified is False:
        v.add(State.CRITICAL, f"{label} certificate does not verify: {why or 'no reason given'}")
    elif c.verified is None:
        if why and why.startswith(VERIFICATION_OFF):
            v.details.append(why)
        else:
            v.add(State.UNKNOWN, f"{label}: whether the certificate verifies was not reported")
    else:
        v.details.append("verifies against the configured CA")
    v.details.append(f"subject {inert(c.subject, 200) or '?'}, issuer {inert(c.issuer, 200) or '?'}")
    return v
