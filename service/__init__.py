"""The legal-news-tagger REST service (an application factory, flaskr-style)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Mapping

from apiflask import APIFlask
from flask import g, request
from werkzeug.exceptions import HTTPException

from training import __version__
from training.config import Settings

from . import body
from .errors import ApiError, from_status
from .schemas import TAGS, ErrorOut
from .ui import docs_headers, spec_in_order

log = logging.getLogger("service.request")


def create_app(test_config: Mapping[str, Any] | None = None) -> APIFlask:
    """Build the app. test_config may hold Flask config and a `TAGGER` Settings (or dict of overrides)."""
    # /docs is Redoc from service/static/vendor/redoc (npm package redoc, MIT): nothing from a CDN.
    app = APIFlask(__name__, title="legal-news-tagger", version=__version__, docs_path="/docs", docs_ui="redoc",
                   docs_oauth2_redirect_path=None, spec_path="/openapi.json")
    test_config = dict(test_config or {})
    overrides = test_config.pop("TAGGER", None)
    settings = overrides if isinstance(overrides, Settings) else Settings.from_env(**(overrides or {}))
    app.config.update(
        TAGGER=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_AS_ASCII=False,
        SYNC_LOCAL_SPEC=False,
        # Errors are documented with the shape the service really sends (service/errors.py).
        HTTP_ERROR_SCHEMA=ErrorOut,
        VALIDATION_ERROR_SCHEMA=ErrorOut,
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_DESCRIPTION="Bad input: `error.field` names the field, `error.message` the fix",
        INFO={"description": "Tags Chinese legal-affairs news: policing, courts, procuratorate, legal_publicity."},
        TAGS=TAGS,  # the order of the groups on /docs: tagging, pages, lifecycle, operations
        REDOC_STANDALONE_JS="/static/vendor/redoc/redoc.standalone.js",
        REDOC_USE_GOOGLE_FONT=False,
        DOCS_FAVICON="data:,",
        DOCS_DECORATORS=[docs_headers],
        SPEC_DECORATORS=[spec_in_order],
        REDOC_CONFIG={
            "expandResponses": "200,201,202", "requiredPropsFirst": True, "pathInMiddlePanel": True,
            "hideDownloadButton": False, "nativeScrollbars": True, "jsonSampleExpandLevel": 3,
            "theme": {"colors": {"primary": {"main": "#8b1a1a"}},
                      "typography": {"fontFamily": 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif',
                                     "headings": {"fontFamily": 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'}}},
        },
    )
    app.json.ensure_ascii = False
    app.config.update(test_config)
    logging.basicConfig(level=settings.log_level.upper(), format="%(message)s")

    body.install()
    _register_errors(app)
    _register_body_limits(app)
    _register_request_log(app)

    from training.jobs import fail_orphaned_jobs, remove_failed_uploads
    from training.store import DataDirError, Store

    from . import admin, api, metrics, ui
    from .registry import ModelRegistry
    from .review import ReviewLog

    metrics.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(ui.bp)
    try:
        store: Store | None = Store(settings.data_dir / "tagger.sqlite3")
        if not store.read_only:
            fail_orphaned_jobs(store, settings.models_dir)  # jobs of a process that died can never finish
            remove_failed_uploads(store, settings)
    except DataDirError as exc:  # /classify needs no data directory: serve it; admin answers 503
        log.error("%s", exc)
        store, app.extensions["tagger_store_error"] = None, str(exc)
    app.extensions["tagger_store"] = store
    app.extensions["tagger_review"] = ReviewLog(store)
    ModelRegistry(settings.models_dir, reload_interval=settings.model_reload_seconds).init_app(app)

    @app.spec_processor
    def _read_token_is_optional(spec):
        # Without TAGGER_READ_TOKEN the tagging routes take anonymous requests too: say so
        # (an empty requirement object means "no authentication" in OpenAPI).
        if not settings.read_token:
            for path in spec.get("paths", {}).values():
                for operation in path.values():
                    if operation.get("security") == [{"ReadToken": []}]:
                        operation["security"] = [{}, {"ReadToken": []}]
        return spec

    return app


def _register_errors(app: APIFlask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error.to_dict(), error.status_code

    @app.error_processor
    def _framework_error(error):
        # 404/405/413 raised by the framework, in our error format.
        message = None if error.status_code in (404, 405, 413, 500) else error.message
        return _framework_response(error.status_code, message, dict(error.headers or {}))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _framework_response(error.code or 500, None, {})

    def _framework_response(status: int, message: str | None, headers: dict):
        if status == 413 and request.path == "/train":
            message = "upload too large; the limit is TAGGER_MAX_UPLOAD_BYTES on the server; split the CSV or raise the limit"
        if status == 405:
            # RFC 9110: a 405 lists the methods the resource does allow.
            try:
                allowed = app.url_map.bind_to_environ(request.environ).allowed_methods()
            except Exception:  # noqa: BLE001 - an odd path must still get its 405
                allowed = []
            if allowed:
                headers["Allow"] = ", ".join(sorted(allowed))
        return from_status(status, message).to_dict(), status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if type(error).__module__.startswith("gunicorn.http"):
            # The server could not read the body (a malformed chunk, a connection cut short).
            return ApiError(400, "bad_request", f"the request body could not be read ({type(error).__name__}); send a well-formed body").to_dict(), 400
        log.exception("unhandled error on %s %s", request.method, request.path)
        return from_status(500).to_dict(), 500


def _register_body_limits(app: APIFlask) -> None:
    @app.before_request
    def _limit_body():
        settings = app.config["TAGGER"]
        # /train takes whole CSVs; everything else takes articles.
        limit = settings.max_upload_bytes if request.path == "/train" else settings.max_body_bytes
        request.max_content_length = limit
        body.limit_chunked_body(request, limit)


def _register_request_log(app: APIFlask) -> None:
    @app.before_request
    def _t0():
        g.t0 = time.perf_counter()

    @app.after_request
    def _log(response):
        if request.path not in ("/healthz", "/metrics") and log.isEnabledFor(logging.INFO):
            log.info(json.dumps({
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("t0", time.perf_counter())) * 1000, 2),
                "bytes_in": request.content_length or 0, "model": g.get("model_version"),
            }, ensure_ascii=False))
        return response
