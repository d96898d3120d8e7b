"""Request and response schemas: they validate requests and generate /openapi.json."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, Raw, String
from apiflask.validators import Range
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


class ResultOut(Schema):
    labels = List(String())
    scores = Dict(String(), Float())
    explain = Dict(String(), List(Nested(Evidence)))
    keywords = List(Nested(KeyTerm))


class EntitiesOut(Schema):
    institutions = List(String())
    places = List(String())


class TaggedArticleOut(ArticleOut):
    labels = List(String())
    scores = Dict(String(), Float())
    explain = Dict(String(), List(Nested(Evidence)))
    keywords = List(Nested(KeyTerm))
    entities = Nested(EntitiesOut)


class ClassifyOut(ResultOut):
    model = String()
    entities = Nested(EntitiesOut)
    results = List(Nested(ResultOut))
    articles = List(Nested(TaggedArticleOut))


class LabelOut(Schema):
    id = String()
    name = String()
    definition = String()
    includes = List(String())
    excludes = List(String())


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
