"""Errors of the server's domain, mapped to HTTP statuses in one place (app.py).

They subclass the project's FrontDeskError family so the same message reads
well in a log, a JSON error body and a test failure.
"""

from __future__ import annotations

from models.errors import FrontDeskError, InputError


class NotFoundError(FrontDeskError):
    """A case, correction or report that does not exist (HTTP 404)."""


class InvalidChoiceError(InputError):
    """A code outside the allowed set; the message lists the valid ones (HTTP 422)."""


class ConflictError(FrontDeskError):
    """The change is not allowed in the record's current state (HTTP 409)."""


class PreconditionRequiredError(FrontDeskError):
    """An edit that does not say which revision it was made on (HTTP 428)."""


class AuthError(FrontDeskError):
    """Wrong credentials or no valid session (HTTP 401)."""


class ForbiddenError(FrontDeskError):
    """Logged in, but the role may not do this (HTTP 403)."""


class NotReadyError(FrontDeskError):
    """The models are still loading (or failed to load) (HTTP 503)."""


class TooManyRequestsError(FrontDeskError):
    """Too many attempts; try again after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLargeError(InputError):
    """A body, text or upload over its limit (HTTP 413)."""


class UnsupportedMediaError(InputError):
    """An upload that is not one of the accepted audio formats (HTTP 415)."""
