"""Reading request bodies strictly, for APIFlask's `@input`: UTF-8 only, bounded JSON, errors name the fix.

APIFlask validates every body through webargs' parser. `install()` replaces that parser's JSON
loader with `load_json_or_text`, so the decoding rules below (and a text/plain body standing for
one text) apply to every `@input(location="json")` view, while the OpenAPI document still comes
from the same schemas. `validation_error()` turns marshmallow's nested messages into our one
error shape, naming the first bad field.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

from flask import Request
from marshmallow import Schema

from .errors import ApiError

JSON_TYPES = ("application/json",)
# A JSON number no option can need (over 40 digits, or past float range) becomes infinity: the
# schema then names the field ("keywords: not a valid integer"), instead of int() failing on more
# than 4,300 digits (and parsing long digit strings is quadratic) or 1e400 overflowing later.
MAX_INT_DIGITS = 40


def _bounded_int(digits: str) -> int | float:
    if len(digits) <= MAX_INT_DIGITS:
        return int(digits)
    return -math.inf if digits.startswith("-") else math.inf


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON; send a finite number")


def decode_text(raw: bytes) -> str:
    """The body as text; 400 bad_encoding when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_encoding", f"body is not valid UTF-8 (byte {exc.start}); send UTF-8 text") from None


def parse_json(body: str, example_field: str = "text", field: str | None = None) -> dict[str, Any]:
    """A JSON object from text (the body, or a form `field`): no NaN/Infinity, bounded integers and nesting; else 400."""
    what = field or "body"
    example = f"{{\"{example_field}\": \"…\"}}" if field is None else f"{{\"{example_field}\": 2}}"
    if not body.strip():
        raise ApiError(400, "empty_body", f"{what} is empty; send JSON like {example}", field=field)
    try:
        data = json.loads(body, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field=field) from None
    except RecursionError:
        raise ApiError(400, "invalid_json", f"{what} is not valid JSON for this API: it is nested too deeply; send a flat object", field=field) from None
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"{what} is not valid JSON: {exc}", field=field) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"{what} must be a JSON object like {example}, not {type(data).__name__}", field=field)
    return data


def load_json_or_text(request: Request, schema: Schema) -> dict[str, Any]:
    """webargs loader: a JSON object, or a text/plain body as {"text": body} for schemas with `text`."""
    mimetype = request.mimetype or ""
    text_field = "text" if "text" in schema.fields else next(iter(schema.fields), "text")
    if mimetype == "text/plain" and "text" in schema.fields:
        return {"text": decode_text(request.get_data(cache=True))}
    if mimetype and not (mimetype in JSON_TYPES or mimetype.endswith("+json")):
        accepted = "application/json or text/plain; charset=utf-8" if "text" in schema.fields else "application/json"
        raise ApiError(415, "unsupported_media_type", f"Content-Type {mimetype} is not supported; send {accepted}")
    return parse_json(decode_text(request.get_data(cache=True)), text_field)


def load_form_or_json(request: Request, schema: Schema) -> dict[str, Any]:
    """webargs loader for uploads: multipart/form fields and files, or a JSON object; query-string options under both."""
    mimetype = request.mimetype or ""
    if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data: dict[str, Any] = {**request.form.to_dict(), **request.files.to_dict()}
    elif not mimetype or mimetype in JSON_TYPES or mimetype.endswith("+json"):
        data = parse_json(decode_text(request.get_data(cache=True)), "rows")
    else:
        raise ApiError(415, "unsupported_media_type", f"Content-Type {mimetype} is not supported; send multipart/form-data (curl -F file=@my.csv) or application/json")
    for name, value in request.args.items():
        if name in schema.fields:
            data.setdefault(name, value)
    return data


def first_error(messages: Any, path: str = "") -> tuple[str, str]:
    """The first (field path, message) in marshmallow's nested error dict."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "body" if key in ("_schema", "json", "form", "files", "form_and_files", "query") else str(key)
            if name == "body":
                return first_error(value, path)
            return first_error(value, f"{path}.{name}" if path else name)
    if isinstance(messages, list) and messages:
        return first_error(messages[0], path)
    return path or "body", str(messages)


def validation_error(messages: Any, known: list[str] | None = None) -> ApiError:
    """An ApiError 400 naming the first bad field of a marshmallow error dict."""
    field, message = first_error(messages)
    if message == "Unknown field.":
        message = f"unknown option {field!r}" + (f"; known options: {', '.join(sorted(known))}" if known else "")
    elif message.startswith("Not a valid"):
        message = f"{field}: {message[0].lower()}{message[1:]}"
    elif not message.startswith(field.split(".")[0]):
        message = f"{field}: {message}"
    return ApiError(400, "invalid_field", message, field=None if field == "body" else field)


def _handle_validation_error(error, req, schema, *, error_status_code=None, error_headers=None):
    raise validation_error(error.messages, list(schema.fields))


def limit_chunked_body(request: Request, limit: int) -> None:
    """A chunked body (no Content-Length) is read here up to `limit`: 413 past it, never cut silently.

    Werkzeug applies MAX_CONTENT_LENGTH to Content-Length only; a chunked body was truncated at
    the limit and then parsed as if complete. After this, the body is an ordinary sized one.
    """
    if request.content_length is not None or "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    stream = request.environ["wsgi.input"]
    parts, size = [], 0
    while True:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"request body is over the limit of {limit} bytes; send less per request")
    raw = b"".join(parts)
    request.environ["wsgi.input"] = io.BytesIO(raw)
    request.environ["CONTENT_LENGTH"] = str(len(raw))
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    request.environ["wsgi.input_terminated"] = False


def install() -> None:
    """Make APIFlask's (module-level) webargs parser read bodies and report errors our way."""
    from apiflask.schema_adapters.marshmallow import parser

    parser.location_loader("json")(load_json_or_text)
    parser.location_loader("form_and_files")(load_form_or_json)
    parser.error_handler(_handle_validation_error)
