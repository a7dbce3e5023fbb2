"""User-facing errors: the CLI prints their message as one line and exits with code 2."""


class RealitygapError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InputError(RealitygapError):
    """Malformed or out-of-domain input (config, parameter, sensor name, path)."""


class RealitygapWarning(UserWarning):
    """Something the user should know that does not stop the work; the CLI prints it as one line."""


def one_line(message: str) -> str:
    """Collapse a (possibly multi-line) message into one line."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())
