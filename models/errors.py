"""The one exception family of Front Desk.

Every domain error subclasses :class:`FrontDeskError` so the command line
and the server can turn any of them into a clear one-line message (exit
code 2 / HTTP 4xx) instead of a traceback. Raise them ``from`` their cause.
"""

from __future__ import annotations


class FrontDeskError(Exception):
    """Base class for errors a user can act on (bad input, bad config)."""


class InputError(FrontDeskError):
    """The caller gave input we cannot use (unreadable audio, bad JSON...)."""


class ModelError(FrontDeskError):
    """A model is missing, corrupt, or cannot be loaded; says how to fix it."""


class ConfigError(FrontDeskError):
    """A data or configuration file is invalid; names the file and the choices."""
