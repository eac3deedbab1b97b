"""Errors that cross layers."""


class BadRecord(ValueError):
    """An input record no retry can fix (malformed, incomplete): reported once, sent to a failure queue."""
