"""Bearer tokens as APIFlask auth objects, so the OpenAPI document shows the scheme the code checks.

`admin_auth` guards the lifecycle endpoints (TAGGER_ADMIN_TOKEN; disabled with 403 when unset).
`read_auth` guards the tagging endpoints only when TAGGER_READ_TOKEN is set (the admin token
works too). Both run before the body is parsed: `@bp.auth_required` sits above `@bp.input`.
"""

from __future__ import annotations

import hmac

from apiflask import HTTPTokenAuth
from flask import current_app

from .errors import ApiError

class BearerAuth(HTTPTokenAuth):
    """HTTPTokenAuth that asks its verify callback even without a token, so each case gets its own message."""

    def authenticate(self, auth, stored_password):
        return self.ensure_sync(self.verify_token_callback)(getattr(auth, "token", None))


admin_auth = BearerAuth(
    scheme="Bearer", security_scheme_name="AdminToken",
    description="The admin token (TAGGER_ADMIN_TOKEN on the server).",
)
read_auth = BearerAuth(
    scheme="Bearer", security_scheme_name="ReadToken",
    description="The read token, needed only when the server sets TAGGER_READ_TOKEN (the admin token works too).",
)


def _matches(token: str | None, *expected: str) -> bool:
    # compare_digest on every configured token: time does not depend on where they differ.
    ok = False
    for secret in expected:
        if secret and token:
            ok |= hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8"))
    return ok


@admin_auth.verify_token
def _verify_admin(token: str | None) -> str:
    secret = current_app.config["TAGGER"].admin_token
    if not secret:
        raise ApiError(403, "admin_disabled", "admin endpoints are disabled; set TAGGER_ADMIN_TOKEN on the server to enable them")
    if not token:
        raise ApiError(401, "unauthorized", "send the admin token as 'Authorization: Bearer <token>'")
    if not _matches(token, secret):
        raise ApiError(401, "unauthorized", "the admin token is wrong")
    return "admin"


@read_auth.verify_token
def _verify_reader(token: str | None) -> str:
    settings = current_app.config["TAGGER"]
    if not settings.read_token:
        return "anyone"
    if not _matches(token, settings.read_token, settings.admin_token):
        raise ApiError(401, "unauthorized", "this service needs a read token: send 'Authorization: Bearer <token>'")
    return "reader"
