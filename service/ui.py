"""The page for people: GET / serves a single-page UI (all assets served locally, no CDN).

The page is static HTML plus service/static/app.js and app.css; the script talks to the JSON API
(/classify, /labels, /models, /models/<version>, /feedback) from the same origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import wraps

from flask import Blueprint, current_app, make_response, render_template

from training import __version__

bp = Blueprint("ui", __name__, static_folder="static", static_url_path="/static", template_folder="templates")

# Only this origin: no CDN, no web font, no inline script. JS may still set element.style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


# /docs (Redoc, served from static/vendor/redoc): its one inline script is allowed by hash; Redoc
# writes its styles into <style> elements at run time (styled-components) and runs its search
# index in a blob: worker, so those two are allowed too. Still nothing from another origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def docs_headers(view):
    """DOCS_DECORATORS entry: the API page's Content-Security-Policy, with its inline scripts by hash."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        page = response.get_data(as_text=True)
        hashes = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in _INLINE_SCRIPT.findall(page)
        )
        response.headers["Content-Security-Policy"] = DOCS_CSP.format(hashes=hashes)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def spec_in_order(view):
    """SPEC_DECORATORS entry: /openapi.json with its paths grouped by tag (TAGS order), each group in
    the order the routes are registered (what a developer does first comes first); jsonify would
    sort them alphabetically, and Redoc lists a tag's operations in the document's path order."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if response.mimetype != "application/json":
            return response
        spec = json.loads(response.get_data())
        tag_rank = {tag["name"]: i for i, tag in enumerate(spec.get("tags", []))}
        registered = [re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule) for rule in current_app.url_map.iter_rules()]

        def rank(path: str) -> tuple[int, int]:
            tags = [t for op in spec["paths"][path].values() if isinstance(op, dict) for t in op.get("tags", [])]
            return (min((tag_rank.get(t, len(tag_rank)) for t in tags), default=len(tag_rank)),
                    registered.index(path) if path in registered else len(registered))

        spec["paths"] = {path: spec["paths"][path] for path in sorted(spec.get("paths", {}), key=rank)}
        response.set_data(json.dumps(spec, ensure_ascii=False))
        return response

    return wrapper


@bp.get("/")
def index():
    """Paste an article or a page, see articles, tags, evidence and entities."""
    response = make_response(render_template("index.html", asset_version=__version__))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
