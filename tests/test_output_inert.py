"""Every cloud string is inert in plugin output: one status line, at most one `|`, valid perfdata.

The boundary (`checks.base.render_verdict`, which the executables print through) is tested with verdicts
that carry raw hostile strings, as a careless judge would produce them; `text.inert` with the strings a
tenant can choose.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from vio_checks.checks.base import render_verdict
from vio_checks.judge.verdict import Perf, State, Verdict
from vio_checks.text import MAX_LEN, inert, one_line, perf_label

# Anything Python can hold, lone surrogates included.
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=400)
_PERF_ITEM = re.compile(r"""^('[^']+'|[^\s'=]+)=-?\d+(\.\d+)?([a-zA-Z%]*)(;[^;\s]*){0,4}$""")


def _assert_plugin_output(text: str, code: int) -> None:
    assert code in (0, 1, 2, 3)
    text.encode("utf-8")  # no lone surrogate reaches stdout
    assert "\x00" not in text and "\r" not in text
    lines = text.rstrip("\n").split("\n")
    status = lines[0]
    assert status.startswith("VIO TEST ")
    assert status.count("|") <= 1
    assert len(status) < 4000
    if "|" in status:
        for item in status.split("|", 1)[1].split():
            assert _PERF_ITEM.match(item), item
    for line in lines[1:]:
        assert "|" not in line


@settings(max_examples=300, deadline=None)
@given(name=ANY_TEXT, fault=ANY_TEXT, label=ANY_TEXT)
def test_status_line_stays_one_line_with_valid_perfdata(name, fault, label):
    v = Verdict()
    v.add(State.CRITICAL, f"{name} is ERROR: {fault}")
    v.add(State.CRITICAL, name * 30)
    v.details += [f"server x ({name})", fault]
    v.perf += [Perf(label or "x", 1, "B", "10", "20", 0, 100), Perf(f"{label}_size", 2.5)]
    _assert_plugin_output(*render_verdict("VIO TEST", v))


@given(ANY_TEXT)
def test_inert_is_one_bounded_line(text):
    out = inert(text)
    out.encode("utf-8")
    assert "|" not in out and "\n" not in out and "\x00" not in out
    assert len(out) <= MAX_LEN
    assert out == out.strip()
    assert inert(out) == out  # idempotent


@given(ANY_TEXT)
def test_perf_label_is_a_valid_label(text):
    label = perf_label(text)
    assert label and "'" not in label and "=" not in label and not re.search(r"\s|\|", label)


def test_forged_status_line_and_perfdata_are_neutralised():
    name = "router-x\nVIO ROUTER OK - all fine | forged=1;;;0"
    v = Verdict()
    v.add(State.OK, name)
    v.details.append(name)
    text, code = render_verdict("VIO TEST", v)
    _assert_plugin_output(text, code)
    assert text.count("\n") == 2  # the status line and one long-output line, nothing forged
    assert "|" not in text  # the forged perfdata stays text: no perfdata section at all
    assert inert(name) == "router-x VIO ROUTER OK - all fine / forged=1;;;0"


def test_nul_surrogate_and_length():
    assert inert("a\x00b") == "a b"
    assert inert("bad \udcff byte") == "bad \ufffd byte"
    long = inert("x" * 10_000)
    assert len(long) == MAX_LEN and long.endswith("…")
    assert one_line("a\u2028b\u202ec") == "a b c"


def _one_line_slow(text: str) -> str:
    """one_line without its fast path: every character through the translation and the split."""
    from vio_checks import text as t

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = re.sub(t._SURROGATE, "\ufffd", text)
    return " ".join(text.translate(t._ONE_LINE).split())


@settings(max_examples=500, deadline=None)
@given(st.one_of(ANY_TEXT, st.text(st.sampled_from("ab |\t\u2028\u00a0\u3000\u200e"), max_size=12)))
def test_one_line_fast_path_changes_nothing(text):
    """The shortcut for text that needs nothing gives exactly what the full treatment gives."""
    assert one_line(text) == _one_line_slow(text)


# Words the credential patterns (vio_checks/redact.py) look for: a label or a name made of them must still
# give valid perfdata, and what follows them in a message must still be masked.
_TRIGGERS = ["authorization", "AUTHORIZATION", "Proxy-Authorization", "x-auth-token", "X-Subject-Token",
             "cookie", "set-cookie", "password", "token", "secret", "api_key", "access-key", "basic",
             "bearer", "http://u:p@h", "vmware-api-session-id"]


@settings(max_examples=200, deadline=None)
@given(word=st.sampled_from(_TRIGGERS), before=st.sampled_from(["", "x_", "a b ", "=", "'"]),
       after=st.sampled_from(["", "_size", ":", "=", " Basic dXNlcjpwYXNzd29yZA==", ": s3cr3t-value",
                                   " Bearer gAAAAAB0123456789abcdef"]))
def test_credential_words_in_labels_keep_perfdata_valid(word, before, after):
    label = before + word + after
    v = Verdict()
    v.add(State.WARNING, f"{label} is late")
    v.perf += [Perf(label, 1, "B", "10", "20", 0, 100), Perf(f"{label}_size", 2.5, "", "1:", "@2:3")]
    out, _ = render_verdict("VIO TEST", v)
    _assert_plugin_output(out, 1)
    if before != "x_":  # "x_authorization" is no header name: only the labels are tested with it
        text = out.split(" | ", 1)[0]
        assert "dXNlcjpwYXNzd29yZA==" not in text and "gAAAAAB0123456789abcdef" not in text
        if word.lower() not in ("password", "token", "secret", "api_key", "access-key", "basic", "bearer",
                                "http://u:p@h"):  # header names
            assert "s3cr3t-value" not in text


def test_a_registered_secret_is_masked_in_labels_and_lines_alike():
    from vio_checks import redact

    secret = "canary-Label-Secret-42"
    redact.register(secret)
    try:
        v = Verdict()
        v.add(State.CRITICAL, f"server {secret} is ERROR")
        v.details.append(f"detail {secret}")
        v.perf.append(Perf(secret, 3))
        out, _ = render_verdict("VIO TEST", v)
    finally:
        redact._known.clear()
    _assert_plugin_output(out, 2)
    assert secret not in out and out.count("***") == 3
