"""Loading labeled data: CSV for training (UTF-8, UTF-8 BOM, GB18030) and JSONL gold files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .errors import DataError

LABEL_SEP = "|"
MIN_PER_LABEL = 5
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Dataset:
    """Texts with their label sets; `optional` holds gold tags that are neither hit nor miss."""

    texts: list[str]
    labels: list[set[str]]
    ids: list[str]
    optional: list[set[str]] = field(default_factory=list)
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def decode(raw: bytes, source: str = "input") -> str:
    """Decode bytes as UTF-8 (with or without BOM) or GB18030, the encodings Excel exports use."""
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{source}: not UTF-8 or GB18030/GBK text; re-save the file as UTF-8 CSV")


def compose(title: str, text: str) -> str:
    """The model's input: headline on its own line, then the body."""
    title, text = (title or "").strip(), (text or "").strip()
    return f"{title}\n{text}" if title and not text.startswith(title) else text


def parse_labels(value: str) -> list[str]:
    """Split a `a|b` label cell; empty means no tag."""
    return [part.strip() for part in (value or "").split(LABEL_SEP) if part.strip()]


def label_count_problems(label_sets: list[set[str]], allowed: Iterable[str], min_per_label: int) -> list[str]:
    """A message for every label with fewer than min_per_label positive rows."""
    counts = Counter(t for tags in label_sets for t in tags)
    return [
        f"label {label!r}: {counts[label]} example(s); need at least {min_per_label} rows tagged {label!r} to train it"
        for label in allowed
        if counts[label] < min_per_label
    ]


def read_csv(
    source: Path | bytes | str,
    allowed: Iterable[str],
    min_per_label: int = MIN_PER_LABEL,
    max_problems: int = 20,
) -> Dataset:
    """Read and validate a training CSV; raise DataError listing every bad row (by row number).

    Row numbers are spreadsheet rows: the header is row 1, the first article row 2.
    """
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), "upload"
    elif isinstance(source, str) and not Path(source).exists() and "\n" in source:
        raw, name = source.encode("utf-8"), "input"
    else:
        path = Path(source)
        try:
            raw, name = path.read_bytes(), str(path)
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
    text = decode(raw, name)
    allowed = list(allowed)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("text", "labels") if c not in header]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; the header must include text,labels "
            f"(found: {', '.join(h for h in header if h) or 'nothing'})"
        )
    reader.fieldnames = header
    problems: list[str] = []
    warnings: list[str] = []
    texts, label_sets, ids = [], [], []
    seen: dict[str, tuple[int, frozenset[str]]] = {}
    try:
        records = list(reader)
    except csv.Error as exc:
        raise DataError(f"{name}: malformed CSV ({exc}); check quoting") from None
    for index, record in enumerate(records):
        row = index + 2
        if None in record:
            problems.append(f"row {row}: more cells than header columns; quote cells that contain commas")
            continue
        body = compose(record.get("title") or "", record.get("text") or "")
        if not body.strip():
            problems.append(f"row {row}: empty text; fill in the article text or delete the row")
            continue
        tags = parse_labels(record.get("labels") or "")
        unknown = [t for t in tags if t not in allowed]
        if unknown:
            problems.append(
                f"row {row}: unknown label(s) {', '.join(map(repr, unknown))}; "
                f"use only {', '.join(allowed)} joined with '|'"
            )
            continue
        key = " ".join(body.split())
        if key in seen:
            first_row, first_tags = seen[key]
            if first_tags != frozenset(tags):
                problems.append(
                    f"row {row}: same text as row {first_row} but different labels; keep one of them"
                )
            else:
                warnings.append(f"row {row}: duplicate of row {first_row}; ignored")
            continue
        seen[key] = (row, frozenset(tags))
        texts.append(body)
        label_sets.append(set(tags))
        ids.append((record.get("id") or "").strip() or str(row))
    if not problems:
        problems += label_count_problems(label_sets, allowed, min_per_label)
    if problems:
        shown = problems[:max_problems]
        more = len(problems) - len(shown)
        message = f"{name}: {len(problems)} problem(s): " + "; ".join(shown)
        if more:
            message += f"; … and {more} more"
        raise DataError(message, problems)
    return Dataset(
        texts=texts,
        labels=label_sets,
        ids=ids,
        optional=[set() for _ in texts],
        sha256=hashlib.sha256(raw).hexdigest(),
        warnings=warnings,
    )


def read_jsonl(path: Path, allowed: Iterable[str]) -> Dataset:
    """Read a gold JSONL file: one object per line with text (or title+text), labels, optional."""
    allowed = list(allowed)
    texts, label_sets, optional, ids = [], [], [], []
    problems = []
    raw = Path(path).read_bytes()
    for number, line in enumerate(decode(raw, str(path)).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            problems.append(f"line {number}: needs a non-empty string field 'text'")
            continue
        tags = item.get("labels") or []
        maybe = item.get("optional") or []
        if isinstance(tags, str):
            tags = parse_labels(tags)
        unknown = [t for t in [*tags, *maybe] if t not in allowed]
        if unknown:
            problems.append(f"line {number}: unknown label(s) {unknown}; use only {allowed}")
            continue
        texts.append(compose(item.get("title") or "", item["text"]))
        label_sets.append(set(tags))
        optional.append(set(maybe) - set(tags))
        ids.append(str(item.get("id", number)))
    if problems:
        raise DataError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems[:20]), problems)
    return Dataset(texts, label_sets, ids, optional, hashlib.sha256(raw).hexdigest())


def read_dataset(path: Path, allowed: Iterable[str]) -> Dataset:
    """CSV or JSONL by file extension."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path, allowed)
    return read_csv(path, allowed)
