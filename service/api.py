"""Classification and model-information endpoints. Views parse, call, respond."""

from __future__ import annotations

import os

from apiflask import APIBlueprint
from flask import current_app, g

from training import artifacts
from training.errors import ModelError
from training.pages.entities import extract_entities
from training.pages.boundary import splitter_status
from training.pages.segment import segment
from training.taxonomy import from_meta, load_taxonomy

from . import schemas
from .auth import read_auth
from .budget import budgeted
from .checks import check_text
from .errors import ApiError, without_paths
from .metrics import record_classification
from .registry import current_tagger, get_registry

bp = APIBlueprint("api", __name__, tag="Tagging")


def _settings():
    return current_app.config["TAGGER"]


@bp.post("/classify")
@bp.auth_required(read_auth)
@bp.input(schemas.ClassifyIn, arg_name="data", examples=schemas.CLASSIFY_EXAMPLES)
@bp.output(schemas.ClassifyOut, examples=schemas.CLASSIFY_RESPONSE_EXAMPLES)
@bp.doc(tags=["Tagging"], summary="Tag one article, a batch or a whole page", responses=schemas.error_responses(400, 401, 413, 415, 503))
@budgeted
def classify(data):
    """Tags for `text` (one article) or `texts` (a batch, in input order); a text/plain body is one text."""
    texts = [data["text"]] if "text" in data else data["texts"]
    if "texts" in data:
        if not texts:
            raise ApiError(400, "empty_batch", "texts is an empty list; send at least one string", field="texts")
        if len(texts) > _settings().max_batch:
            raise ApiError(413, "batch_too_large", f"texts has {len(texts)} items; the limit is {_settings().max_batch} (TAGGER_MAX_BATCH)", field="texts")
    for i, text in enumerate(texts):
        check_text(text, "text" if "text" in data else f"texts.{i}")
    tagger = _tagger()
    threshold = data.get("threshold")
    if isinstance(threshold, dict):
        unknown = sorted(set(threshold) - set(tagger.labels))
        if unknown:
            raise ApiError(400, "invalid_field", f"threshold names unknown label {unknown[0]!r}; labels: {', '.join(tagger.labels)}", field="threshold")
    articles = None
    if data["split"]:
        if "text" not in data:
            raise ApiError(400, "invalid_field", "split works on one page: send it as 'text', not 'texts'", field="split")
        articles = segment(data["text"])
        texts = [a.classify_text for a in articles]
    results = tagger.classify(texts, threshold=threshold, explain=8 if data["explain"] else 0, keywords=data["keywords"]) if texts else []
    g.model_version = tagger.version
    record_classification(results)
    current_app.extensions["tagger_review"].add(texts, results, tagger.thresholds, tagger.version)
    outputs = [r.to_dict() for r in results]
    if data["entities"]:
        for out, text in zip(outputs, texts):
            out["entities"] = extract_entities(text)
    if articles is not None:
        return _respond({"articles": [{**a.to_dict(), **out} for a, out in zip(articles, outputs)], "model": tagger.version})
    if "text" in data:
        return _respond({**outputs[0], "model": tagger.version})
    return _respond({"results": outputs, "model": tagger.version})


def _respond(payload: dict):
    """JSON straight from the dict: @bp.output documents ClassifyOut, but dumping through the schema
    cost about 0.1 ms a request for a payload that already has exactly its fields."""
    return current_app.json.response(payload)


@bp.post("/segment")
@bp.auth_required(read_auth)
@bp.input(schemas.SegmentIn, arg_name="data", example=schemas.SEGMENT_EXAMPLE)
@bp.input(schemas.SegmentQuery, location="query", arg_name="query")
@bp.output(schemas.SegmentOut, example=schemas.SEGMENT_RESPONSE_EXAMPLE)
@bp.doc(tags=["Pages"], summary="Split a whole newspaper page into articles", responses=schemas.error_responses(400, 401, 413, 415, 503))
@budgeted
def segment_page(data, query):
    """Articles of a page with character offsets into the submitted text (titles, bylines, captions).

    With `?debug=1` each article also says why it starts where it does (the rule or the boundary
    model's probability and strongest features) and why headlines inside it are section headings.
    """
    check_text(data["text"], "text")
    return {"articles": [a.to_dict(debug=query["debug"]) for a in segment(data["text"])]}


def _tagger():
    try:
        return current_tagger()
    except ModelError as exc:
        raise ApiError(503, "no_model", f"no model is loaded: {without_paths(str(exc))}") from None


@bp.get("/labels")
@bp.output(schemas.LabelsOut, example=schemas.LABELS_EXAMPLE)
@bp.doc(tags=["Tagging"], summary="The labels: ids, Chinese names, definitions")
def labels():
    """The active model's labels: ids, Chinese names, definitions (labels/taxonomy.toml when no model is loaded)."""
    try:
        tagger = current_tagger()
        meta = {**tagger.meta, "labels": tagger.labels}  # the classifier's own labels are the truth
    except ModelError:
        return {"labels": [label.to_dict() for label in load_taxonomy(_settings().taxonomy_path)]}
    return {"labels": [label.to_dict() for label in from_meta(meta, _settings().taxonomy_path)]}


@bp.get("/models")
@bp.output(schemas.ModelsOut, example=schemas.MODELS_EXAMPLE)
@bp.doc(tags=["Model lifecycle"], summary="The active version and every stored one")
def models():
    """The active model version and every stored version."""
    models_dir = _settings().models_dir
    state = artifacts.read_active(models_dir)
    return {"active": state["active"] or get_registry().version_or_none(), "versions": artifacts.list_versions(models_dir), "skipped": {**artifacts.skipped_versions(models_dir), **get_registry().skipped}}


@bp.get("/models/<version>")
@bp.doc(tags=["Model lifecycle"], summary="A version's metadata", responses={200: schemas.example_200(schemas.MODEL_DETAIL_EXAMPLE), **schemas.error_responses(404)})
def model_detail(version: str):
    """A version's model.json: labels, thresholds, metrics, training data, library versions."""
    try:
        return artifacts.read_meta(_settings().models_dir, version)
    except ModelError as exc:
        raise ApiError(404, "no_such_model", without_paths(str(exc))) from None


@bp.get("/healthz")
@bp.doc(tags=["Operations"], summary="The process is alive", responses={200: schemas.example_200({"status": "ok"})})
def healthz():
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.doc(tags=["Operations"], summary="Ready to classify", responses={200: schemas.example_200({"status": "ready", "model": schemas._VERSION, "pid": 4242, "skipped": [], "splitter": {"boundary_model": "ok", "trees": 100, "nodes": 1490}}), **schemas.error_responses(503)})
def readyz():
    """A model is loaded and answers a probe text."""
    tagger = _tagger()
    tagger.classify(["法院依法公开宣判一起盗窃案。"])
    splitter = splitter_status()
    if "problem" in splitter:
        splitter["problem"] = without_paths(splitter["problem"])
    return {"status": "ready", "model": tagger.version, "pid": os.getpid(), "skipped": get_registry().skipped,
            "splitter": splitter}
