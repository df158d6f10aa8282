"""Domain errors. Each carries its HTTP status and title; web.py maps them to problem+json in one place."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedBody(DomainError):
    status, title, type_slug = 400, "Malformed request", "malformed-request"


class NotAuthenticated(DomainError):
    status, title, type_slug = 401, "Not authenticated", "not-authenticated"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, type_slug = 404, "Not found", "not-found"


class Gone(DomainError):
    status, title, type_slug = 410, "Gone", "gone"


class Conflict(DomainError):
    status, title, type_slug = 409, "Conflict", "conflict"


class InvalidInput(DomainError):
    status, title, type_slug = 422, "Invalid input", "invalid-input"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class _RetryLater(DomainError):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class TooManyAttempts(_RetryLater):
    status, title, type_slug = 429, "Too many attempts", "too-many-attempts"


class ServiceBusy(_RetryLater):
    status, title, type_slug = 503, "Service busy", "service-busy"
