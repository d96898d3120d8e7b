"""The per-record work both engines share: parse, check, split into articles, tag.

A raw record is `(position, payload)`: payload is a JSONL line (str) or a dict of fields (CSV,
Parquet). `process` turns a list of them into output rows and error records; nothing here
knows which engine called it, so the engines cannot drift apart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from training.data import compose
from training.normalize import LONE_SURROGATE

# The page splitter is imported here and nowhere else in training/batch (it is moving packages).
from training.pages.segment import segment

TAG_BATCH = 64  # texts vectorized together; the same as `legal-tagger classify`
RESERVED = ("text", "id", "title")


@dataclass(frozen=True)
class Options:
    """What changes the rows a record produces (recorded in the run's manifest)."""

    split: bool = False
    max_chars: int = 100_000


class Unreadable(str):
    """A payload a reader could not turn into fields; its text is the reason."""


class Rejected(Exception):
    """A bad record: the reason goes to OUTPUT/_errors/, the run goes on."""

    def __init__(self, reason: str, record_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.record_id = record_id


def _surrogate(value: str, field: str) -> None:
    lone = LONE_SURROGATE.search(value)
    if lone:
        raise Rejected(f"{field} has a lone UTF-16 surrogate \\u{ord(lone.group()):04x} at character {lone.start()}; send valid Unicode")


def _clean(value: Any) -> Any:
    """Python value of a field (NaN and numpy scalars from pandas become None and plain numbers)."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def parse(position: int, payload: str | dict) -> dict | None:
    """Fields of a raw record, or None for a blank line; raises Rejected when it is not usable."""
    if isinstance(payload, Unreadable):
        raise Rejected(str(payload))
    if isinstance(payload, str):
        line = payload.lstrip("\ufeff").rstrip("\r")
        if not line.strip():
            return None
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise Rejected(f"not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict):
            raise Rejected(f"not a JSON object (found {type(item).__name__}); write one object per line")
        return item
    return {str(k): _clean(v) for k, v in payload.items()}


def prepare(position: int, payload: str | dict, options: Options) -> list[dict]:
    """The articles (text + identity) of one raw record; [] for a blank line; raises Rejected."""
    item = parse(position, payload)
    if item is None:
        return []
    raw_id = item.get("id")
    if raw_id is None:
        record_id = str(position)
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
        record_id = str(raw_id)
    else:
        raise Rejected(f"id must be a string or an integer (found {type(raw_id).__name__})")
    try:
        _surrogate(record_id, "id")
        text, title = item.get("text"), item.get("title")
        if not isinstance(text, str) or not text.strip():
            raise Rejected("no text: needs a non-empty string field 'text'")
        if title is not None and not isinstance(title, str):
            raise Rejected(f"title must be a string (found {type(title).__name__})")
        title = title or ""
        _surrogate(text, "text")
        _surrogate(title, "title")
        if len(text) + len(title) > options.max_chars:
            raise Rejected(f"text has {len(text) + len(title)} characters; the limit is {options.max_chars} (TAGGER_MAX_TEXT_CHARS)")
        others = {k: v for k, v in item.items() if k not in RESERVED}
        extra = json.dumps(others, ensure_ascii=False, sort_keys=True, default=str) if others else None
        if extra is not None:
            _surrogate(extra, "a passed-through field")
    except Rejected as exc:
        exc.record_id = record_id
        raise
    if not options.split:
        return [{"id": record_id, "position": position, "title": title or None, "text": compose(title, text), "extra": extra}]
    articles = segment(text)
    if not articles:
        raise Rejected("--split found no article on the page", record_id)
    return [
        {"id": f"{record_id}#{k}", "position": position, "page_id": record_id, "article_index": k,
         "start": a.start, "end": a.end, "title": a.title or None, "text": a.classify_text, "extra": extra}
        for k, a in enumerate(articles)
    ]


def process(raws: Iterable[tuple[int, str | dict]], tagger: Any, options: Options) -> tuple[list[dict], list[dict]]:
    """Output rows (one per article, input order) and error records of a list of raw records."""
    items: list[dict] = []
    errors: list[dict] = []
    for position, payload in raws:
        try:
            items.extend(prepare(position, payload, options))
        except Rejected as exc:
            error = {"position": position, "reason": exc.reason}
            if exc.record_id is not None:
                error["id"] = exc.record_id
            errors.append(error)
    return tag(items, tagger), errors


def tag(items: Sequence[dict], tagger: Any) -> list[dict]:
    """Tag prepared articles in batches; each row gets labels, scores and the model version."""
    rows = []
    for start in range(0, len(items), TAG_BATCH):
        chunk = items[start:start + TAG_BATCH]
        for item, result in zip(chunk, tagger.classify([i["text"] for i in chunk])):
            row = {k: v for k, v in item.items() if k != "text"}
            row.update(labels=list(result.labels), scores=dict(result.scores), model=tagger.version)
            rows.append(row)
    return rows
