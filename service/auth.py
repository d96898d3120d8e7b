"""Bearer-token checks: admin endpoints need TAGGER_ADMIN_TOKEN; /classify may need TAGGER_READ_TOKEN."""

from __future__ import annotations

import functools
import hmac

from flask import current_app, request

from .errors import ApiError


def _presented() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(token: str | None, *expected: str) -> bool:
    # compare_digest on every configured token: time does not depend on where they differ.
    ok = False
    for secret in expected:
        if secret and token is not None:
            ok |= hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8"))
    return ok


def require_admin(view):
    """Admin endpoints: disabled (403) without a configured token, 401 without the right one."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        secret = current_app.config["TAGGER"].admin_token
        if not secret:
            raise ApiError(403, "admin_disabled", "admin endpoints are disabled; set TAGGER_ADMIN_TOKEN on the server to enable them")
        token = _presented()
        if token is None:
            raise ApiError(401, "unauthorized", "send the admin token as 'Authorization: Bearer <token>'")
        if not _matches(token, secret):
            raise ApiError(401, "unauthorized", "the admin token is wrong")
        return view(*args, **kwargs)

    return wrapper


def check_read_access() -> None:
    """When TAGGER_READ_TOKEN is set, /classify needs it (or the admin token)."""
    settings = current_app.config["TAGGER"]
    if settings.read_token and not _matches(_presented(), settings.read_token, settings.admin_token):
        raise ApiError(401, "unauthorized", "this service needs a read token: send 'Authorization: Bearer <token>'")
