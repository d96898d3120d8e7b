"""Reading request bodies strictly: UTF-8 only, JSON objects or text/plain, errors name the fix."""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import g, request
from marshmallow import Schema, ValidationError

from .errors import ApiError

JSON_TYPES = ("application/json",)


def _decode() -> str:
    raw = request.get_data(cache=True)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_encoding", f"body is not valid UTF-8 (byte {exc.start}); send UTF-8 text") from None


def json_or_text(text_field: str = "text") -> dict[str, Any]:
    """The body as a dict: a JSON object, or a text/plain body as {text_field: body}."""
    mimetype = request.mimetype or ""
    body = _decode()
    if mimetype == "text/plain":
        return {text_field: body}
    if mimetype and not (mimetype in JSON_TYPES or mimetype.endswith("+json")):
        raise ApiError(415, "unsupported_media_type", f"Content-Type {mimetype} is not supported; send application/json or text/plain; charset=utf-8")
    if not body.strip():
        raise ApiError(400, "empty_body", f"request body is empty; send JSON like {{\"{text_field}\": \"…\"}}")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"body must be a JSON object like {{\"{text_field}\": \"…\"}}, not {type(data).__name__}")
    return data


def _first_error(messages: Any, path: str = "") -> tuple[str, str]:
    """The first (field path, message) in marshmallow's nested error dict."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "body" if key == "_schema" else str(key)
            return _first_error(value, f"{path}.{name}" if path and name != "body" else (path or name))
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], path)
    return path or "body", str(messages)


def load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate data with a schema; ApiError 400 naming the first bad field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        field, message = _first_error(exc.messages)
        if message == "Unknown field.":
            known = ", ".join(sorted(schema.fields))
            message = f"unknown option {field!r}; known options: {known}"
        elif message.startswith("Not a valid"):
            message = f"{field}: {message[0].lower()}{message[1:]}"
        elif not message.startswith(field):
            message = f"{field}: {message}"
        raise ApiError(400, "invalid_field", message, field=field) from None


def parsed(schema_class: type[Schema], text_field: str = "text"):
    """Decorator: parse and validate the body into g.body before anything else reads it.

    It sits above apiflask's (documentation-only) @input so that our messages, not the
    framework's generic ones, answer malformed bodies.
    """

    schema = schema_class()  # marshmallow schemas are reusable; building one per request cost ~0.2 ms

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.body = load(schema, json_or_text(text_field))
            return view(*args, **kwargs)

        return wrapper

    return decorator
