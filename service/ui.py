"""The page for people: GET / serves a single-page UI (all assets served locally, no CDN).

The page is static HTML plus service/static/app.js and app.css; the script talks to the JSON API
(/classify, /labels, /models, /models/<version>, /feedback) from the same origin.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template

from training import __version__

bp = Blueprint("ui", __name__, static_folder="static", static_url_path="/static", template_folder="templates")

# Only this origin: no CDN, no web font, no inline script. JS may still set element.style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.get("/")
def index():
    """Paste an article or a page, see articles, tags, evidence and entities."""
    response = make_response(render_template("index.html", asset_version=__version__))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
