"""The page for people: GET / serves a single-page UI (all assets served locally, no CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("ui", __name__, static_folder="static", static_url_path="/static", template_folder="templates")


@bp.get("/")
def index():
    """Paste an article or a page, see articles, tags, evidence and entities."""
    return render_template("index.html")
