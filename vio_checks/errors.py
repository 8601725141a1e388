"""Exceptions that carry a one-line message meant for the user."""

from vio_checks.redact import Redacted


class VioError(Redacted):
    """Base class: str(e) is a complete one-line message, with no credential in it (redact.py)."""


class SweepError(VioError):
    """A discovery sweep failed (API down, 401, timeout, malformed reply, bad cloud config)."""


class CacheError(VioError):
    """The cache directory or database cannot be used."""


class InventoryUnavailable(VioError):
    """No inventory young enough to judge from."""
