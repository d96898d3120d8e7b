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


class SegmentOut(Schema):
    articles = List(Nested(ArticleOut))


class Evidence(Schema):
    term = String()
    kind = String(metadata={"description": "words, chars (n-gram) or cues (taxonomy feature)"})
    weight = Float()


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
    keywords = List(Nested(KeyTerm))
    entities = Nested(EntitiesOut)




class TaggedArticleOut(ArticleOut):
    labels = List(String())
    scores = Dict(String(), Float())
    explain = Dict(String(), List(Nested(Evidence)))
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


def error_responses(*codes: int) -> dict[int, str]:
    """OpenAPI responses for these error statuses; APIFlask documents each with HTTP_ERROR_SCHEMA (ErrorOut)."""
    return {code: ERROR_DESCRIPTIONS[code] for code in codes}


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
