"""Exceptions that carry a one-line message meant for the user."""


class VioError(Exception):
    """Base class: str(e) is a complete one-line message."""


class SweepError(VioError):
    """A discovery sweep failed (API down, 401, timeout, malformed reply, bad cloud config)."""


class CacheError(VioError):
    """The cache directory or database cannot be used."""


class InventoryUnavailable(VioError):
    """No inventory young enough to judge from."""
