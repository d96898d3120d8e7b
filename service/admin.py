"""Model lifecycle over HTTP: training jobs, activation, rollback, deletion, corrections, review."""

from __future__ import annotations

import json

from apiflask import APIBlueprint
from flask import Response, current_app, request

from training import artifacts
from training.data import write_csv
from training.errors import ModelError, ModelNotFound
from training.jobs import ACTIVATE_POLICIES, BASES, report_path, rows_to_csv, submit
from training.pipeline import check_params
from training.store import DataDirError
from training.taxonomy import label_ids

from . import body
from .auth import require_admin
from .checks import check_text
from .errors import ApiError
from .registry import get_registry

bp = APIBlueprint("admin", __name__, tag="Model lifecycle")


def _settings():
    return current_app.config["TAGGER"]


def _store():
    store = current_app.extensions.get("tagger_store")
    if store is None:  # the data directory failed at startup; /classify still serves
        raise DataDirError(current_app.extensions.get("tagger_store_error") or "data directory (TAGGER_DATA_DIR) unavailable")
    return store


@bp.errorhandler(DataDirError)
def _data_dir_unavailable(error: DataDirError):
    return ApiError(503, "data_dir_unavailable", str(error)).to_dict(), 503


def _option(name: str, default=None):
    """An option from the form, the query string or the JSON body (in that order)."""
    for source in (request.form, request.args):
        if name in source:
            return source[name]
    return default


@bp.post("/train")
@bp.doc(summary="Start a training job (multipart CSV upload, or JSON rows)", responses={202: "Job accepted", 400: "Bad request", 401: "No token", 403: "Admin disabled"})
@require_admin
def train():
    """Returns 202 with the job id; poll GET /jobs/<id>."""
    request.max_content_length = _settings().max_upload_bytes
    options_json: dict = {}
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "missing_file", "attach the CSV as form field 'file' (curl -F file=@my.csv)", field="file")
        raw = upload.read()
    else:
        options_json = body.json_or_text("rows")
        rows = options_json.pop("rows", None)
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise ApiError(400, "invalid_field", "rows must be a non-empty list of objects like {\"text\": \"…\", \"labels\": [\"courts\"]}", field="rows")
        raw = rows_to_csv(rows)
    base = options_json.get("base", _option("base", "upload"))
    activate = options_json.get("activate", _option("activate", "if_better"))
    include_feedback = str(options_json.get("include_feedback", _option("include_feedback", "false"))).lower() in ("1", "true", "yes")
    params = options_json.get("params", _option("params"))
    if base not in BASES:
        raise ApiError(400, "invalid_field", f"base must be one of {', '.join(BASES)} (upload: your rows only; corpus: the active model's corpus plus your rows)", field="base")
    if activate not in ACTIVATE_POLICIES:
        raise ApiError(400, "invalid_field", f"activate must be one of {', '.join(ACTIVATE_POLICIES)}", field="activate")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            raise ApiError(400, "invalid_field", "params must be a JSON object like {\"C\": 2}", field="params") from None
    if params is not None and not isinstance(params, dict):
        raise ApiError(400, "invalid_field", "params must be a JSON object like {\"C\": 2}", field="params")
    try:
        params = check_params(params) if params else None
    except ValueError as exc:
        raise ApiError(400, "invalid_field", str(exc), field="params") from None
    options = {"base": base, "activate": activate, "params": params, "include_feedback": include_feedback, "bytes": len(raw)}
    feedback = _feedback_csv().encode("utf-8") if include_feedback else None
    job_id = submit(_store(), _settings(), raw, options, feedback)
    return {"id": job_id, "state": "queued", "url": f"/jobs/{job_id}"}, 202


@bp.get("/jobs/<job_id>")
@require_admin
def job(job_id: str):
    """State, progress, timing, evaluation report; validation errors with row numbers on failure."""
    found = _store().get_job(job_id)
    if not found:
        raise ApiError(404, "no_such_job", f"no job {job_id!r}; POST /train returns the id")
    return found


@bp.get("/jobs/<job_id>/report")
@require_admin
def job_report(job_id: str):
    """The job's HTML evaluation report on its held-out rows (bars, confusion, calibration, mistakes)."""
    path = report_path(_settings(), job_id)
    if not _store().get_job(job_id) or not path.is_file():
        raise ApiError(404, "no_report", f"job {job_id!r} has no report (it needs held-out rows and must reach 'evaluating')")
    return Response(path.read_text(encoding="utf-8"), mimetype="text/html")


@bp.get("/jobs")
@require_admin
def jobs():
    """The 50 most recent jobs."""
    return {"jobs": _store().list_jobs()}


def _switch(change, not_found: tuple[int, str]) -> dict:
    """Apply an activation change, map model errors to HTTP, and reload this worker at once."""
    try:
        state = change()
    except ModelNotFound as exc:
        raise ApiError(not_found[0], not_found[1], str(exc)) from None
    except ModelError as exc:
        raise ApiError(409, "model_rejected", str(exc)) from None
    get_registry().refresh(force=True)
    return state


@bp.post("/models/<version>/activate")
@require_admin
def activate(version: str):
    """Make a version active (verified first); every worker serves it within seconds."""
    return _switch(lambda: artifacts.set_active(_settings().models_dir, version), (404, "no_such_model"))


@bp.post("/models/rollback")
@require_admin
def rollback():
    """Re-activate the previously active version."""
    return _switch(lambda: artifacts.rollback(_settings().models_dir), (409, "no_previous_model"))


@bp.delete("/models/<version>")
@require_admin
def delete(version: str):
    """Delete a stored version (never the active one or the rollback target)."""
    try:
        artifacts.delete_version(_settings().models_dir, version)
    except ModelNotFound as exc:
        raise ApiError(404, "no_such_model", str(exc)) from None
    except ModelError as exc:
        raise ApiError(409, "protected_model", str(exc)) from None
    return {"deleted": version}


@bp.post("/feedback")
@require_admin
def feedback():
    """Store a person's corrected tags for a text (deduplicated; later corrections win)."""
    data = body.json_or_text()
    text, labels = data.get("text"), data.get("labels")
    unknown_keys = sorted(set(data) - {"text", "labels"})
    if unknown_keys:
        raise ApiError(400, "invalid_field", f"unknown option {unknown_keys[0]!r}; send text and labels", field=unknown_keys[0])
    if not isinstance(text, str):
        raise ApiError(400, "empty_text", "text must be a non-empty string", field="text")
    check_text(text, "text")  # the same limits as /classify: a huge text would break training
    allowed = label_ids(_settings().taxonomy_path)
    if not isinstance(labels, list) or not all(isinstance(l, str) for l in labels):
        raise ApiError(400, "invalid_field", "labels must be a list of label ids (may be empty)", field="labels")
    unknown = [l for l in labels if l not in allowed]
    if unknown:
        raise ApiError(400, "invalid_field", f"unknown label {unknown[0]!r}; labels: {', '.join(allowed)}", field="labels")
    row_id, duplicate = _store().add_feedback(text, sorted(set(labels)))
    return {"id": row_id, "duplicate": duplicate}, 200 if duplicate else 201


@bp.delete("/feedback/<int:feedback_id>")
@require_admin
def delete_feedback(feedback_id: int):
    """Delete one stored correction (the id POST /feedback returned)."""
    if not _store().delete_feedback(feedback_id):
        raise ApiError(404, "no_such_feedback", f"no correction {feedback_id}; GET /feedback/export lists them (id fbN is N)")
    return {"deleted": feedback_id}


def _feedback_csv() -> str:
    """Corrections as CSV, cells formula-escaped (read_csv restores them exactly)."""
    return write_csv(["id", "text", "labels"], ([f"fb{row['id']}", row["text"], row["labels"]] for row in _store().feedback_rows()))


@bp.get("/feedback/export")
@require_admin
def feedback_export():
    """All corrections (latest per text) as a training CSV, formula cells escaped with a leading ' (read back exactly)."""
    return Response(_feedback_csv(), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=feedback.csv"})


@bp.get("/review")
@require_admin
def review():
    """Recent classified texts whose scores sit closest to the thresholds: label these next."""
    raw = request.args.get("n", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ApiError(400, "invalid_field", "n must be a whole number from 1 to 500", field="n")
    log = current_app.extensions.get("tagger_review")
    if log:
        log.flush()
    items = _store().uncertain(int(raw))
    return {"items": [{k: item[k] for k in ("text", "labels", "scores", "margin", "model", "created")} for item in items]}
