"""Request and response schemas: they validate requests and generate /openapi.json."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Float, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema


def _check_threshold(value) -> None:
    """A number in [0, 1], or a map of label → number in [0, 1]."""
    def ok(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and 0.0 <= x <= 1.0

    if isinstance(value, dict):
        bad = [k for k, v in value.items() if not ok(v)]
        if bad or not value:
            raise ValidationError(f"threshold for {bad[0] if bad else '(none)'} must be a number between 0 and 1")
    elif not ok(value):
        raise ValidationError("threshold must be a number between 0 and 1, or a map of label to such a number")


class ClassifyIn(Schema):
    text = String(metadata={"description": "One article (or a whole page with split=true)."})
    texts = List(String(), metadata={"description": "A batch of articles, classified in one pass."})
    threshold = Raw(validate=_check_threshold, metadata={"description": "Number or {label: number} overriding the tuned thresholds."})
    explain = Boolean(load_default=False, metadata={"description": "Return the terms that pushed each returned label up."})
    keywords = Integer(strict=True, validate=Range(0, 50), load_default=0, metadata={"description": "Return the top-k key terms of each text."})
    split = Boolean(load_default=False, metadata={"description": "Treat `text` as a whole newspaper page: split it into articles and tag each."})
    entities = Boolean(load_default=False, metadata={"description": "Return the 政法 institutions and places each text names."})

    @validates_schema
    def _one_input(self, data, **kwargs):
        if ("text" in data) == ("texts" in data):
            raise ValidationError("give exactly one of 'text' (a string) or 'texts' (a list of strings)", "text")


class TrainRow(Schema):
    text = String(required=True, metadata={"description": "The article text."})
    labels = Raw(load_default=list, metadata={"description": "Label ids: a list, or one string joined with '|' (none: no tag)."})
    title = String(load_default="")
    id = Raw(metadata={"description": "Your row id (string or number), kept in the training copy."})

    @validates_schema
    def _labels_are_ids(self, data, **kwargs):
        labels = data.get("labels")
        if isinstance(labels, str):
            return
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ValidationError("labels must be a list of label ids like [\"courts\"] (may be empty) or a string 'a|b'", "labels")
        if "id" in data and not (isinstance(data["id"], (str, int)) and not isinstance(data["id"], bool)):
            raise ValidationError("id must be a string or a whole number", "id")


class TrainIn(Schema):
    """Multipart (file + fields) or a JSON object (rows + fields); options may also come in the query string."""

    file = File(metadata={"description": "The labeled CSV (columns text,labels; optional id,title)."})
    rows = List(Nested(TrainRow), validate=Length(min=1, max=100_000), metadata={"description": "JSON alternative to file: the rows."})
    base = String(load_default="upload", validate=OneOf(["upload", "corpus"]), metadata={"description": "upload: your rows only; corpus: the active model's corpus plus your rows."})
    activate = String(load_default="if_better", validate=OneOf(["never", "if_better", "always"]))
    include_feedback = Boolean(load_default=False, metadata={"description": "Add the stored corrections (POST /feedback) to the training rows."})
    params = Raw(allow_none=True, metadata={"description": "Hyper-parameters as a JSON object (or its text in a form field), e.g. {\"C\": 2}."})
    taxonomy = Raw(metadata={"description": "The new model's label set, in labels/taxonomy.toml's format: a multipart file (TOML or JSON), "
                                             "or in a JSON body the TOML text or an object {\"label\": [{id, name, definition, terms, ...}]}. "
                                             "It lists every label the new model has: labels it omits are dropped, new ones added."})
    gate = Raw(allow_none=True, metadata={"description": "Quality-gate options as a JSON object: folds, repeats, min_rows, min_support, bootstrap."})

    @validates_schema
    def _one_source(self, data, **kwargs):
        if ("file" in data) == ("rows" in data):
            raise ValidationError("send exactly one of a CSV file (multipart field 'file': curl -F file=@my.csv) or JSON 'rows'", "file")


class AuditIn(Schema):
    """Multipart (file + fields) or a JSON object (rows + fields)."""

    file = File(metadata={"description": "The labeled CSV to audit (columns text,labels; optional id,title)."})
    rows = List(Nested(TrainRow), validate=Length(min=1, max=100_000), metadata={"description": "JSON alternative to file: the rows."})
    folds = Integer(load_default=5, validate=Range(2, 10), metadata={"description": "Cross-validation folds (2 to 10)."})
    params = Raw(allow_none=True, metadata={"description": "Hyper-parameters as a JSON object (or its text in a form field)."})

    @validates_schema
    def _one_source(self, data, **kwargs):
        if ("file" in data) == ("rows" in data):
            raise ValidationError("send exactly one of a CSV file (multipart field 'file') or JSON 'rows'", "file")


class FeedbackIn(Schema):
    text = String(required=True, metadata={"description": "The article text."})
    labels = List(String(), required=True, metadata={"description": "The correct label ids (may be empty)."})


class ReviewQuery(Schema):
    n = Integer(load_default=20, validate=Range(1, 500), metadata={"description": "How many texts (1 to 500)."})


class SegmentIn(Schema):
    text = String(required=True, metadata={"description": "A whole page of text."})


class ArticleOut(Schema):
    start = Integer(metadata={"description": "Offset of the article's first character in the submitted text."})
    end = Integer(metadata={"description": "Offset just past its last character."})
    spans = List(List(Integer()), metadata={"description": "[start, end) ranges in reading order (several when columns interleave)."})
    repeats = List(List(Integer()), metadata={"description": "Ranges of paragraphs printed twice on the page (the second copy, left out of text)."})
    kind = String(metadata={"description": "article or caption"})
    title = String()
    byline = String()
    text = String()


class SegmentQuery(Schema):
    debug = Boolean(load_default=False, metadata={"description": "Add `why` to each article: why it starts where it does and why headlines inside it were taken as section headings."})


class BoundaryEvidence(Schema):
    feature = String(metadata={"description": "A feature of the boundary model (training/pages/boundary.py)."})
    value = Float()
    weight = Float(metadata={"description": "Its contribution to the log-odds of a new article (negative: same article)."})


class BoundaryDecision(Schema):
    at = Integer(metadata={"description": "Offset of the headline the decision is about."})
    headline = String()
    new_article = Boolean()
    rule = String(metadata={"description": "The rule of the pattern table that decided (when no model did)."})
    model = String(metadata={"description": "'boundary' when the learned boundary model decided."})
    p_new_article = Float(metadata={"description": "The model's probability that the headline opens another article."})
    because = List(Nested(BoundaryEvidence), metadata={"description": "The features that weighed most."})


class ArticleWhy(Schema):
    start = Nested(BoundaryDecision, metadata={"description": "Why an article starts here."})
    sections = List(Nested(BoundaryDecision), metadata={"description": "Headlines inside it kept as section headings, and why."})


class SegmentArticleOut(ArticleOut):
    why = Nested(ArticleWhy, metadata={"description": "Only with debug=1."})


class SegmentOut(Schema):
    articles = List(Nested(SegmentArticleOut))


class Evidence(Schema):
    term = String(metadata={"description": "One word or consecutive words of the text (normalized: half-width, lowercase Latin)."})
    kind = String(metadata={"description": "words (word and character features of these words) or cues (a taxonomy cue pattern matched here)"})
    weight = Float(metadata={"description": "Summed contribution to the label's score (log-odds), 4 decimals."})
    start = Integer(metadata={"description": "Offset (code points) of the term's first occurrence in the classified text (for split=true: the article's text)."})
    end = Integer(metadata={"description": "Offset just past that occurrence."})


def _explained() -> Dict:
    return Dict(String(), Float(), metadata={
        "description": "With explain: per returned label, the share (0 to 1) of its positive evidence that the shown terms carry."})


class KeyTerm(Schema):
    term = String()
    weight = Float()


class EntitiesOut(Schema):
    institutions = List(String())
    places = List(String())


class ResultOut(Schema):
    labels = List(String())
    scores = Dict(String(), Float())
    explain = Dict(String(), List(Nested(Evidence)))
    explained = _explained()
    keywords = List(Nested(KeyTerm))
    entities = Nested(EntitiesOut)




class TaggedArticleOut(ArticleOut):
    labels = List(String())
    scores = Dict(String(), Float())
    explain = Dict(String(), List(Nested(Evidence)))
    explained = _explained()
    keywords = List(Nested(KeyTerm))
    entities = Nested(EntitiesOut)


class ClassifyOut(ResultOut):
    model = String()
    results = List(Nested(ResultOut))
    articles = List(Nested(TaggedArticleOut))


class LabelOut(Schema):
    id = String()
    name = String()
    definition = String()
    includes = List(String())
    excludes = List(String())
    colour = String(metadata={"description": "Display colour (#rrggbb) where the label set gives one."})


class LabelsOut(Schema):
    labels = List(Nested(LabelOut))


class ModelsOut(Schema):
    active = String(allow_none=True)
    versions = List(String())
    skipped = Dict(String(), String())  # directories (and active.json) that are not usable, with the reason


class ErrorBody(Schema):
    code = String()
    message = String()
    field = String()


class ErrorOut(Schema):
    error = Nested(ErrorBody)


ERROR_DESCRIPTIONS = {
    400: "Bad input: `error.field` names the field, `error.message` the fix",
    401: "Missing or wrong bearer token",
    403: "Admin endpoints are disabled (no TAGGER_ADMIN_TOKEN on the server)",
    404: "No such resource",
    409: "Conflict with the current model state",
    413: "Too large: a text, a batch or the body is over its limit (named in the message)",
    415: "Unsupported Content-Type",
    503: "No model loaded, the data directory is unavailable, or the request ran past its time budget (code `timeout`)",
}


def _error(code: str, message: str, field: str | None = None) -> dict:
    return {"value": {"error": {"code": code, "message": message, **({"field": field} if field else {})}}}


# What each status really carries (the code words and messages the service sends), shown on /docs.
ERROR_EXAMPLES = {
    400: {"invalid_field": _error("invalid_field", "threshold must be a number between 0 and 1, or a map of label to such a number", "threshold"),
          "empty_batch": _error("empty_batch", "texts is an empty list; send at least one string", "texts")},
    401: {"unauthorized": _error("unauthorized", "send the admin token as 'Authorization: Bearer <token>'")},
    403: {"admin_disabled": _error("admin_disabled", "admin endpoints are disabled; set TAGGER_ADMIN_TOKEN on the server to enable them")},
    404: {"no_such_model": _error("no_such_model", "no model version '20260101-000000-abc123' in <server path>; see `legal-tagger models`"),
          "no_such_job": _error("no_such_job", "no job 'abc'; POST /train returns the id")},
    409: {"protected_model": _error("protected_model", "version 20261125-101500-3f9c1e is active or the rollback target; activate another version first"),
          "no_previous_model": _error("no_previous_model", "no previous version to roll back to")},
    413: {"text_too_long": _error("text_too_long", "text has 120000 characters; the limit is 100000 (TAGGER_MAX_TEXT_CHARS)", "text"),
          "batch_too_large": _error("batch_too_large", "texts has 3000 items; the limit is 256 (TAGGER_MAX_BATCH)", "texts")},
    415: {"unsupported_media_type": _error("unsupported_media_type", "Content-Type text/xml is not supported; send application/json or text/plain; charset=utf-8")},
    503: {"no_model": _error("no_model", "no model is loaded: no model in <server path>; train one with `legal-tagger train labels/corpus.csv`"),
          "timeout": _error("timeout", "the request took longer than its 20 s budget (TAGGER_REQUEST_SECONDS) and was stopped; send shorter texts or smaller batches")},
}


def error_responses(*codes: int) -> dict[int, dict]:
    """OpenAPI responses for these error statuses: the ErrorOut body with examples of what is sent."""
    return {code: {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorOut"}, "examples": ERROR_EXAMPLES[code]}}} for code in codes}


class JobAccepted(Schema):
    id = String(metadata={"description": "The job id."})
    state = String(metadata={"description": "queued"})
    url = String(metadata={"description": "Poll this: GET /jobs/<id>."})


class FeedbackOut(Schema):
    id = Integer()
    duplicate = Boolean(metadata={"description": "True when this exact correction was already stored (status 200)."})


# Responses whose body is a free-form JSON object, an HTML page or a CSV file.
OBJECT_200 = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
HTML_200 = {"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}}
CSV_200 = {"description": "OK", "content": {"text/csv": {"schema": {"type": "string"}}}}


# ------------------------------------------------------------------------------------------------
# Examples shown on /docs (Redoc): real-looking Chinese requests and the answers the service gives.

_VERSION = "20261202-185344-585a2d"
_ARTICLE = "青石县人民检察院对涉嫌诈骗的李某依法批准逮捕。"
_PAGE = ("城关派出所破获系列盗窃电动车案\n\n本报讯（记者 林晓雨）近日，江川县公安局城关派出所民警抓获涉嫌盗窃电动车的嫌疑人王某。\n\n"
         "普法志愿者走进社区\n\n本报讯 南湖街道司法所组织普法志愿者走进社区开展民法典宣传活动。")
_SCORES = {"policing": 0.0, "courts": 0.0, "procuratorate": 0.9996, "legal_publicity": 0.121}
_PAGE_ARTICLES = [
    {"start": 0, "end": 60, "spans": [[0, 60]], "repeats": [], "kind": "article", "title": "城关派出所破获系列盗窃电动车案",
     "byline": "本报讯（记者 林晓雨）", "text": "近日，江川县公安局城关派出所民警抓获涉嫌盗窃电动车的嫌疑人王某。"},
    {"start": 62, "end": 105, "spans": [[62, 105]], "repeats": [], "kind": "article", "title": "普法志愿者走进社区",
     "byline": "本报讯", "text": "南湖街道司法所组织普法志愿者走进社区开展民法典宣传活动。"},
]

CLASSIFY_EXAMPLES = {
    "article": {"summary": "One article, with evidence", "value": {"text": _ARTICLE, "explain": True}},
    "batch": {"summary": "A batch", "value": {"texts": [_ARTICLE, "今年小麦喜获丰收。"]}},
    "page": {"summary": "A whole newspaper page, split and tagged", "value": {"text": _PAGE, "split": True, "entities": True}},
    "threshold": {"summary": "Stricter thresholds", "value": {"text": _ARTICLE, "threshold": {"procuratorate": 0.8}}},
}
CLASSIFY_RESPONSE_EXAMPLES = {
    "article": {"summary": "One article (explain=true)", "value": {
        "labels": ["procuratorate"], "scores": _SCORES, "model": _VERSION,
        "explain": {"procuratorate": [{"term": "县人民检察院", "kind": "words", "weight": 0.0204},
                                      {"term": "批准逮捕", "kind": "words", "weight": 0.0187}]}}},
    "batch": {"summary": "A batch: results in input order", "value": {"model": _VERSION, "results": [
        {"labels": ["procuratorate"], "scores": _SCORES},
        {"labels": [], "scores": {"policing": 0.0026, "courts": 0.0047, "procuratorate": 0.007, "legal_publicity": 0.1625}}]}},
    "page": {"summary": "A page (split=true, entities=true)", "value": {"model": _VERSION, "articles": [
        {**_PAGE_ARTICLES[0], "labels": ["policing"], "scores": {"policing": 0.9998, "courts": 0.0, "procuratorate": 0.0, "legal_publicity": 0.125},
         "entities": {"institutions": ["江川县公安局城关派出所"], "places": ["江川县"]}},
        {**_PAGE_ARTICLES[1], "labels": ["legal_publicity"], "scores": {"policing": 0.0023, "courts": 0.0043, "procuratorate": 0.0065, "legal_publicity": 0.8549},
         "entities": {"institutions": ["南湖街道司法所"], "places": []}}]}},
}
SEGMENT_EXAMPLE = {"text": _PAGE}
SEGMENT_RESPONSE_EXAMPLE = {"articles": _PAGE_ARTICLES}
LABELS_EXAMPLE = {"labels": [{"id": "procuratorate", "name": "检察", "definition": "人民检察院及其法律监督活动是报道的主要对象或主要行为主体。",
                              "includes": ["批捕、起诉、公益诉讼"], "excludes": ["只在末尾一句提到“移送检察机关审查起诉”"]}]}
MODELS_EXAMPLE = {"active": _VERSION, "versions": [_VERSION, "20261125-101500-3f9c1e"]}
MODEL_DETAIL_EXAMPLE = {
    "version": _VERSION, "created": "2026-12-02T18:53:44+00:00", "labels": ["policing", "courts", "procuratorate", "legal_publicity"],
    "label_names": {"policing": "公安", "courts": "法院", "procuratorate": "检察", "legal_publicity": "普法"},
    "thresholds": {"policing": 0.25, "courts": 0.5, "procuratorate": 0.25, "legal_publicity": 0.5},
    "metrics": {"cv": {"macro_f1": 0.9684, "exact_set_accuracy": 0.9312, "n": 1425},
                "gold": {"lawcrime": {"macro_f1": 0.9529, "exact_set_accuracy": 0.9, "n": 120}}},
    "training": {"file": "corpus.csv", "rows": 1425}, "tokenizer": "rjieba",
}
# Multipart: curl -F file=@mine.csv -F base=corpus -F activate=if_better ... (a JSON body {"rows": [...]} works too).
TRAIN_EXAMPLE = {"file": "text,labels\n青石县人民检察院对涉嫌诈骗的李某依法批准逮捕。,procuratorate\n区人民法院公开宣判一起合同诈骗案。,courts\n",
                 "base": "corpus", "activate": "if_better", "include_feedback": True}
AUDIT_EXAMPLE = {"file": TRAIN_EXAMPLE["file"], "folds": 5}
JOB_ACCEPTED_EXAMPLE = {"id": "9f2c4e1ab37d", "state": "queued", "url": "/jobs/9f2c4e1ab37d"}
JOB_EXAMPLE = {"id": "9f2c4e1ab37d", "state": "done", "progress": 1.0, "message": f"model {_VERSION} activated",
               "version": _VERSION, "options": {"base": "corpus", "activate": "if_better"}, "errors": None,
               "report": {"activated": True, "policy": "if_better", "seconds": 41.2},
               "created": 1764701584.1, "started": 1764701584.3, "finished": 1764701625.5}
JOBS_EXAMPLE = {"jobs": [JOB_EXAMPLE]}
ACTIVE_EXAMPLE = {"active": _VERSION, "history": ["20261125-101500-3f9c1e"]}
FEEDBACK_EXAMPLE = {"text": "法官走进校园上法治课，讲解未成年人保护法。", "labels": ["legal_publicity", "courts"]}
FEEDBACK_RESPONSE_EXAMPLE = {"id": 12, "duplicate": False}
REVIEW_EXAMPLE = {"items": [{"text": "法官走进校园上法治课，讲解未成年人保护法。", "labels": ["legal_publicity"],
                             "scores": {"policing": 0.01, "courts": 0.46, "procuratorate": 0.0, "legal_publicity": 0.71},
                             "margin": 0.04, "model": _VERSION, "created": 1764701700.0}]}


def example_200(example, media: str = "application/json", schema: dict | None = None) -> dict:
    """A documented 200 response whose body is free-form (JSON object, HTML or CSV), with an example."""
    schema = schema or ({"type": "object"} if media == "application/json" else {"type": "string"})
    return {"description": "OK", "content": {media: {"schema": schema, "example": example}}}


TAGS = [
    {"name": "Tagging", "description": "Tag articles: `/classify` (one, a batch, or a whole page) and the taxonomy `/labels`."},
    {"name": "Pages", "description": "Split a whole newspaper page into articles, with offsets into the submitted text."},
    {"name": "Model lifecycle", "description": "Models, training jobs, activation and rollback, people's corrections. Needs the admin token."},
    {"name": "Operations", "description": "Liveness and readiness probes for load balancers and orchestrators."},
]
