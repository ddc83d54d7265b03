"""Exceptions. Each inherits from both ``CuekitError`` and a built-in, so callers can catch either."""


class CuekitError(Exception):
    """Base of every error cuekit raises on purpose. The message is one line, fit for a user."""


class InputError(CuekitError, ValueError):
    """A bad argument or setting (wrong layout string, unknown cue, negative step …)."""


class MediaError(CuekitError, OSError):
    """A file that cannot be read as media: missing, empty, truncated, not media, no usable track."""
