"""User-facing errors: the CLI prints their message as one line and exits with code 2."""

import contextlib
import sys


class RealitygapError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InputError(RealitygapError):
    """Malformed or out-of-domain input (config, parameter, sensor name, path)."""


class RealitygapWarning(UserWarning):
    """Something the user should know that does not stop the work; the CLI prints it as one line."""


def one_line(message: str) -> str:
    """Collapse a (possibly multi-line) message into one line."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


@contextlib.contextmanager
def escaping_undecodable_paths():
    """stdout and stderr write what they cannot encode as backslash escapes while this lasts: a path given with bytes
    that are not UTF-8 (a surrogate in Python's str) is printed, not a UnicodeEncodeError."""
    streams = [(s, s.errors) for s in (sys.stdout, sys.stderr) if hasattr(s, "reconfigure") and s.errors == "strict"]
    for stream, _ in streams:
        stream.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        for stream, errors in streams:
            stream.reconfigure(errors=errors)
