"""The certificate judge (vio_checks/judge/certificate.py), pure: days thresholds and ranges, expired, not
verifying, unreachable, hostile strings; and the check's aggregate and --name through its SPEC."""

from __future__ import annotations

import datetime as dt

import pytest

from vio_checks.checks import spec_of
from vio_checks.checks.base import build_parser, render_verdict
from vio_checks.judge.certificate import CertificateOptions, judge_certificate
from vio_checks.judge.verdict import State, Threshold
from vio_checks.optional_records import Certificate

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC).timestamp()
DAY = 86400.0
EP = "keystone.vio.example:5000"


def cert(days: float | None = 100, verified: bool | None = True, **kw) -> Certificate:
    base = dict(not_after=None if days is None else NOW + days * DAY, subject="CN=keystone.vio.example",
                issuer="CN=VIO CA", verified=verified)
    base.update(kw)
    return Certificate(EP, "keystone.vio.example", 5000, ("identity",), **base)


def judge(c: Certificate, warning: str = "30:", critical: str = "7:"):
    return judge_certificate(c, NOW, CertificateOptions(Threshold.parse(warning, critical)))


@pytest.mark.parametrize("days, state", [(100, State.OK), (30, State.OK), (29.9, State.WARNING),
                                         (8, State.WARNING), (7, State.WARNING), (6.99, State.CRITICAL),
                                         (5, State.CRITICAL), (0.5, State.CRITICAL)])
def test_default_thresholds_on_whole_days_left(days, state):
    v = judge(cert(days))
    assert v.state == state, v.summary
    assert v.summary.startswith(f"{EP} expires in "), v.summary


def test_five_days_names_the_endpoint_and_the_date():
    v = judge(cert(5))
    assert v.state == State.CRITICAL
    assert v.summary == f"{EP} expires in 5 days (2026-12-11)"
    perf = {p.label: p for p in v.perf}
    assert perf["days"].value == 5 and perf["days"].warn == "30:" and perf["days"].crit == "7:"


def test_under_a_day_says_hours_and_the_time():
    v = judge(cert(10 / 24))
    assert v.summary == f"{EP} expires in 10 h (2026-12-06 22:00 UTC)", v.summary


@pytest.mark.parametrize("warning, critical, days, state", [
    ("60:", "14:", 45, State.WARNING), ("60:", "14:", 10, State.CRITICAL), ("60:", "14:", 61, State.OK),
    ("", "", 1, State.OK),  # no ranges: only expiry and verification alert
    ("@0:100", "", 50, State.WARNING),  # inside the range alerts (@)
])
def test_ranges_are_nagios_ranges_on_days(warning, critical, days, state):
    assert judge(cert(days), warning, critical).state == state


@pytest.mark.parametrize("days, text", [(-3, "expired 3 days ago (2026-12-03)"),
                                        (-0.25, "expired 6 h ago (2026-12-06)")])
def test_expired_is_critical_whatever_the_ranges(days, text):
    v = judge(cert(days), "", "")
    assert v.state == State.CRITICAL and v.summary == f"{EP} certificate {text}", v.summary


def test_a_certificate_that_no_longer_verifies_is_critical_with_why():
    v = judge(cert(200, verified=False, verify_error="certificate has expired"))
    assert v.state == State.CRITICAL
    assert v.summary == f"{EP} certificate does not verify: certificate has expired"
    v = judge(cert(20, verified=False, verify_error="Hostname mismatch"))
    assert v.state == State.CRITICAL and "does not verify: Hostname mismatch" in v.summary


def test_verification_off_in_the_cloud_config_is_said_not_hidden():
    v = judge(cert(100, verified=None, verify_error="not verified: certificate verification is off in the "
                                                    "cloud configuration (insecure)"))
    assert v.state == State.OK
    assert any("verification is off" in d for d in v.details)
    # verification not reported for another reason: never OK
    v = judge(cert(100, verified=None))
    assert v.state == State.UNKNOWN and "was not reported" in v.summary


def test_an_unreachable_endpoint_is_unknown_naming_it():
    v = judge(cert(None, verified=None, error="cannot connect: Connection refused"))
    assert v.state == State.UNKNOWN
    assert v.summary == f"{EP}: no certificate read: cannot connect: Connection refused"
    assert not v.unverified  # a judged UNKNOWN: the aggregate says UNKNOWN, never OK


def test_no_expiry_is_unverified_never_ok():
    v = judge(cert(None, missing=("not_after",)))
    assert v.state == State.UNKNOWN and v.unverified
    assert "The endpoint reported no not_after" in v.summary


def test_hostile_strings_are_inert():
    evil = "ev\nil|host:443\x1b[31m"
    c = Certificate(evil, evil, 443, ("comp\nute",), not_after=NOW + 3 * DAY, subject="CN=a\nb|c",
                    issuer="x\r\ny", verified=False, verify_error="bad\n| injected=1")
    v = judge(c)
    for text in [v.summary, *v.details]:
        assert "\n" not in text and "\r" not in text and "|" not in text and "\x1b" not in text, text
    c = Certificate(evil, evil, 443, error="refused\n|x=1")
    v = judge(c)
    assert "\n" not in v.summary and "|" not in v.summary


class _Snap:
    def __init__(self, certs):
        self.certs, self.meta = certs, None

    def age(self, now=None):
        return 0.0

    def all(self, kind):
        return list(self.certs)

    def get(self, kind, ref):
        return next((c for c in self.certs if c.id == ref), None)

    def find(self, kind, field, value):
        return [c for c in self.certs if getattr(c, field) == value]


def _check(certs, *argv):
    spec = spec_of("certificate")
    args = build_parser(spec).parse_args(["--cache-only", *argv])
    return render_verdict(spec.title, spec.evaluate(args, _Snap(certs), NOW))


def test_the_check_one_endpoint_and_all():
    near, ok = cert(5), cert(100).replace(name="nova.vio.example:8774", host="nova.vio.example", port=8774)
    text, code = _check([near, ok], "--name", EP)
    assert code == 2 and text.startswith(f"VIO CERTIFICATE CRITICAL - {EP} expires in 5 days (2026-12-11)"), text
    text, code = _check([near, ok], "--name", "nova.vio.example:8774", "-w", "200:", "-c", "50:")
    assert code == 1 and "days=100;200:;50:" in text, text
    text, code = _check([near, ok])
    assert code == 2 and EP in text.splitlines()[0], text
    down = cert(None, verified=None, error="cannot connect: Connection refused")
    text, code = _check([ok, down])
    assert code == 3 and EP in text.splitlines()[0], text
    text, code = _check([])
    assert code == 0, text
