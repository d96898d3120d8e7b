"""Model lifecycle over HTTP: training jobs, activation, rollback, deletion, corrections, review."""

from __future__ import annotations


from apiflask import APIBlueprint
from flask import Response, current_app

from training import artifacts
from training.data import write_csv
from training.audit.job import submit_audit
from training.errors import ModelError, ModelNotFound, TaxonomyError
from training.gate import GateConfig
from training.jobs import label_set, report_path, rows_to_csv, submit
from training.jsonout import job_json, review_item_json
from training.pipeline import check_params
from training.store import DataDirError
from training.taxonomy import parse_taxonomy

from . import body, schemas
from .auth import admin_auth
from .checks import check_text
from .errors import ApiError
from .registry import get_registry

bp = APIBlueprint("admin", __name__, tag="Model lifecycle")
require_admin = bp.auth_required(admin_auth)


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


@bp.post("/train")
@require_admin
@bp.input(schemas.TrainIn, location="form_and_files", arg_name="data", example=schemas.TRAIN_EXAMPLE)
@bp.output(schemas.JobAccepted, status_code=202, description="Job accepted; poll its url", example=schemas.JOB_ACCEPTED_EXAMPLE)
@bp.doc(tags=["Model lifecycle"], summary="Start a training job (multipart CSV upload, or JSON rows)", responses=schemas.error_responses(400, 401, 403, 413, 415, 503))
def train(data):
    """Returns 202 with the job id; poll GET /jobs/<id>. A JSON body {"rows": [...], ...} works too."""
    raw, params = _upload(data), _params(data)
    taxonomy = _taxonomy(data["taxonomy"]) if data.get("taxonomy") not in (None, "") else None
    gate = _json_object(data.get("gate"), "gate", "folds")
    options = {"base": data["base"], "activate": data["activate"], "params": params, "include_feedback": data["include_feedback"], "bytes": len(raw)}
    if taxonomy:
        options["taxonomy"] = [label.id for label in taxonomy]
    if gate:
        try:
            GateConfig.from_params(_settings(), gate)
        except ValueError as exc:
            raise ApiError(400, "invalid_field", str(exc), field="gate") from None
        options["gate"] = gate
    feedback = _feedback_csv().encode("utf-8") if data["include_feedback"] else None
    job_id = submit(_store(), _settings(), raw, options, feedback, taxonomy)
    return {"id": job_id, "state": "queued", "url": f"/jobs/{job_id}"}, 202


def _json_object(value, field: str, example: str):
    """A form field's JSON text or a JSON body's object; None when absent; else 400 naming the field."""
    if isinstance(value, str):
        value = body.parse_json(value, example, field=field) if value.strip() else None
    if value is not None and not isinstance(value, dict):
        raise ApiError(400, "invalid_field", f"{field} must be a JSON object like {{\"{example}\": 2}}", field=field)
    return value


def _upload(data: dict) -> bytes:
    """The CSV of a /train or /audit request: the uploaded file, or JSON rows written as one."""
    if "file" in data:
        return data["file"].read()
    for i, row in enumerate(data["rows"]):
        check_text(row["text"], f"rows.{i}.text", allow_empty=True)
    return rows_to_csv(data["rows"])


def _params(data: dict) -> dict | None:
    """Checked hyper-parameters of a /train or /audit request (None: the defaults)."""
    params = _json_object(data.get("params"), "params", "C")
    try:
        return check_params(params) if params else None
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"params: {exc}", field="params") from None


MAX_TAXONOMY_BYTES = 256 * 1024


def _taxonomy(value):
    """The uploaded label set (file, TOML/JSON text, or JSON object), checked; 400 naming the problem."""
    import json as _json

    if hasattr(value, "read"):
        raw = value.read(MAX_TAXONOMY_BYTES + 1)
        if len(raw) > MAX_TAXONOMY_BYTES:
            raise ApiError(413, "too_large", f"taxonomy file is over {MAX_TAXONOMY_BYTES} bytes", field="taxonomy")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_field", "taxonomy file is not UTF-8 text; save it as UTF-8", field="taxonomy") from None
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = _json.dumps(value, ensure_ascii=False)
    else:
        raise ApiError(400, "invalid_field", "taxonomy must be a file, TOML text or a JSON object {\"label\": [...]}", field="taxonomy")
    try:
        return parse_taxonomy(text, "taxonomy")
    except TaxonomyError as exc:
        raise ApiError(400, "invalid_field", str(exc), field="taxonomy") from None


@bp.post("/audit")
@require_admin
@bp.input(schemas.AuditIn, location="form_and_files", arg_name="data", example=schemas.AUDIT_EXAMPLE)
@bp.output(schemas.JobAccepted, status_code=202, description="Audit accepted; poll its url (GET /jobs/<id>); its HTML at /jobs/<id>/report",
           example=schemas.JOB_ACCEPTED_EXAMPLE)
@bp.doc(tags=["Model lifecycle"], summary="Audit a labeled CSV for likely label errors (async)", responses=schemas.error_responses(400, 401, 403, 413, 415, 503))
def audit(data):
    """Returns 202 with a job id; the finished job's report holds the ranked findings (most suspicious first)."""
    raw, params = _upload(data), _params(data)
    job_id = submit_audit(_store(), _settings(), raw, {"kind": "audit", "folds": data["folds"], "params": params, "bytes": len(raw)})
    return {"id": job_id, "state": "queued", "url": f"/jobs/{job_id}"}, 202


@bp.get("/jobs/<job_id>")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="A training job", responses={200: schemas.example_200(schemas.JOB_EXAMPLE), **schemas.error_responses(401, 403, 404, 503)})
def job(job_id: str):
    """State, progress, timing, evaluation report; validation errors with row numbers on failure."""
    found = _store().get_job(job_id)
    if not found:
        raise ApiError(404, "no_such_job", f"no job {job_id!r}; POST /train returns the id")
    return job_json(found)


@bp.get("/jobs/<job_id>/report")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="A job's HTML evaluation report", responses={200: schemas.example_200("<!doctype html><html lang=\"zh-CN\">…评估报告…</html>", "text/html"), **schemas.error_responses(401, 403, 404, 503)})
def job_report(job_id: str):
    """The job's HTML evaluation report on its held-out rows (bars, confusion, calibration, mistakes)."""
    path = report_path(_settings(), job_id)
    if not _store().get_job(job_id) or not path.is_file():
        raise ApiError(404, "no_report", f"job {job_id!r} has no report (it needs held-out rows and must reach 'evaluating')")
    return Response(path.read_text(encoding="utf-8"), mimetype="text/html")


@bp.get("/jobs")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="Recent training jobs", responses={200: schemas.example_200(schemas.JOBS_EXAMPLE), **schemas.error_responses(401, 403, 503)})
def jobs():
    """The 50 most recent jobs."""
    return {"jobs": [job_json(j) for j in _store().list_jobs()]}


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
@bp.doc(tags=["Model lifecycle"], summary="Activate a version", responses={200: schemas.example_200(schemas.ACTIVE_EXAMPLE), **schemas.error_responses(401, 403, 404, 409)})
def activate(version: str):
    """Make a version active (verified first); every worker serves it within seconds."""
    return _switch(lambda: artifacts.set_active(_settings().models_dir, version), (404, "no_such_model"))


@bp.post("/models/rollback")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="Re-activate the previous version", responses={200: schemas.example_200(schemas.ACTIVE_EXAMPLE), **schemas.error_responses(401, 403, 409)})
def rollback():
    """Re-activate the previously active version."""
    return _switch(lambda: artifacts.rollback(_settings().models_dir), (409, "no_previous_model"))


@bp.delete("/models/<version>")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="Delete a stored version", responses={200: schemas.example_200({"deleted": "20261125-101500-3f9c1e"}), **schemas.error_responses(401, 403, 404, 409)})
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
@bp.input(schemas.FeedbackIn, arg_name="data", example=schemas.FEEDBACK_EXAMPLE)
@bp.output(schemas.FeedbackOut, status_code=201, description="Stored", example=schemas.FEEDBACK_RESPONSE_EXAMPLE)
@bp.doc(tags=["Model lifecycle"], summary="Store a person's corrected tags for a text", responses={200: "Already stored (same text and labels)", **schemas.error_responses(400, 401, 403, 413, 415, 503)})
def feedback(data):
    """Store a person's corrected tags for a text (deduplicated; later corrections win)."""
    text, labels = data["text"], data["labels"]
    check_text(text, "text")  # the same limits as /classify: a huge text would break training
    allowed = _active_labels()
    unknown = [l for l in labels if l not in allowed]
    if unknown:
        raise ApiError(400, "invalid_field", f"unknown label {unknown[0]!r}; labels: {', '.join(allowed)}", field="labels")
    row_id, duplicate = _store().add_feedback(text, sorted(set(labels)))
    return {"id": row_id, "duplicate": duplicate}, 200 if duplicate else 201


@bp.delete("/feedback/<int:feedback_id>")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="Delete one stored correction", responses={200: schemas.example_200({"deleted": 12}), **schemas.error_responses(401, 403, 404, 503)})
def delete_feedback(feedback_id: int):
    """Delete one stored correction (the id POST /feedback returned)."""
    if not _store().delete_feedback(feedback_id):
        raise ApiError(404, "no_such_feedback", f"no correction {feedback_id}; GET /feedback/export lists them (id fbN is N)")
    return {"deleted": feedback_id}


def _active_labels() -> list[str]:
    """Label ids of the active model (its own label set), else of labels/taxonomy.toml."""
    try:
        active = artifacts.active_version(_settings().models_dir)
    except ModelError:
        active = None
    return [label.id for label in label_set(_settings(), active)]


def _feedback_csv() -> str:
    """Corrections as CSV, cells formula-escaped (read_csv restores them exactly)."""
    return write_csv(["id", "text", "labels"], ([f"fb{row['id']}", row["text"], row["labels"]] for row in _store().feedback_rows()))


@bp.get("/feedback/export")
@require_admin
@bp.doc(tags=["Model lifecycle"], summary="Corrections as a training CSV", responses={200: schemas.example_200("id,text,labels\nfb12,法官走进校园上法治课，讲解未成年人保护法。,courts|legal_publicity\n", "text/csv"), **schemas.error_responses(401, 403, 503)})
def feedback_export():
    """All corrections (latest per text) as a training CSV, formula cells escaped with a leading ' (read back exactly)."""
    return Response(_feedback_csv(), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=feedback.csv"})


@bp.get("/review")
@require_admin
@bp.input(schemas.ReviewQuery, location="query", arg_name="query")
@bp.doc(tags=["Model lifecycle"], summary="Texts to label next", responses={200: schemas.example_200(schemas.REVIEW_EXAMPLE), **schemas.error_responses(400, 401, 403, 503)})
def review(query):
    """Recent classified texts whose scores sit closest to the thresholds: label these next."""
    log = current_app.extensions.get("tagger_review")
    if log:
        log.flush()
    items = _store().uncertain(query["n"])
    return {"items": [review_item_json(item) for item in items]}
