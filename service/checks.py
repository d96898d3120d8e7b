"""Checks shared by the views that take article text (/classify, /segment, /feedback)."""

from __future__ import annotations

from flask import current_app

from training.normalize import LONE_SURROGATE

from .errors import ApiError


def check_text(value: str, field: str) -> None:
    """400 for a lone surrogate or blank text, 413 past TAGGER_MAX_TEXT_CHARS; each names the field."""
    lone = LONE_SURROGATE.search(value)
    if lone:
        raise ApiError(400, "bad_encoding", f"{field} has a lone UTF-16 surrogate \\u{ord(lone.group()):04x} at character {lone.start()}; send valid Unicode text", field=field)
    if not value.strip():
        raise ApiError(400, "empty_text", f"{field} is empty or only whitespace; send the article text", field=field)
    limit = current_app.config["TAGGER"].max_text_chars
    if len(value) > limit:
        raise ApiError(413, "text_too_long", f"{field} has {len(value)} characters; the limit is {limit} (TAGGER_MAX_TEXT_CHARS)", field=field)
