"""Domain errors. Each carries an HTTP status and a stable machine code; the API layer renders
them (GraphQL payload errors, GA4GH error bodies) without inspecting their text."""

from __future__ import annotations


class AtriumError(Exception):
    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(AtriumError):
    status_code = 422
    code = "INVALID"


class NotFound(AtriumError):
    status_code = 404
    code = "NOT_FOUND"


class Unauthenticated(AtriumError):
    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(AtriumError):
    status_code = 403
    code = "FORBIDDEN"


class Conflict(AtriumError):
    status_code = 409
    code = "CONFLICT"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


class Busy(AtriumError):
    """A lock could not be taken in time; the caller may retry."""

    status_code = 503
    code = "BUSY"
