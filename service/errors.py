"""The one HTTP error type; every error response is JSON {"error": {"code", "message"}}."""

from __future__ import annotations

import re
from typing import Any

# An absolute path in a library message (models dir, data dir): never shown to unauthenticated
# clients. Possessive-free and linear: one character class, no nesting.
_PATH = re.compile(r"(?<![\w.])/[^\s'\";:,]*")


def without_paths(message: str) -> str:
    """A message with server file paths replaced by '<server path>'."""
    return _PATH.sub("<server path>", message)


class ApiError(Exception):
    """An error a client can fix: status code, stable code word, message naming the fix."""

    def __init__(self, status_code: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


# Stable code words for the statuses the framework raises on its own.
STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "too_many_requests", 500: "internal", 503: "unavailable",
}

FRIENDLY = {
    404: "no such endpoint; see /openapi.json for the API",
    405: "method not allowed on this endpoint; see /openapi.json",
    413: "request body too large; send less text per request (limit: TAGGER_MAX_BODY_BYTES)",
    500: "internal error; the request was logged",
}


def from_status(status_code: int, message: str | None = None) -> ApiError:
    """An ApiError for a bare HTTP status raised by Flask/Werkzeug."""
    return ApiError(status_code, STATUS_CODES.get(status_code, "error"), message or FRIENDLY.get(status_code, "request failed"))
