"""Loading labeled data: CSV for training (UTF-8, UTF-8 BOM, GB18030) and JSONL gold files.

CSV cells we write are neutralized against spreadsheet formula injection (OWASP): a cell that
starts with `=`, `+`, `-`, `@`, tab or CR, possibly after leading `'`s, gets one more leading `'`.
Reading removes one leading `'` from exactly such cells (`'` run followed by one of those), so
reading what we wrote gives the text back exactly, and a cell like `'hello` is left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import DataError

LABEL_SEP = "|"
MIN_PER_LABEL = 5
ENCODINGS = ("utf-8-sig", "gb18030")
FORMULA_START = "=+-@\t\r"
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")  # what a spreadsheet would run as a formula
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")  # what escape_cell produced (and only that)


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


def escape_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (reversed by unescape_cell)."""
    return "'" + value if _NEEDS_ESCAPE.match(value) else value


def unescape_cell(value: str) -> str:
    """The text escape_cell was given: drop the one `'` it added before a formula character."""
    return value[1:] if _ESCAPED.match(value) else value


def write_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """CSV text with every cell formula-escaped; read_csv/parse_csv restore the cells exactly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(str(cell)) for cell in header])
    for row in rows:
        writer.writerow([escape_cell("" if cell is None else str(cell)) for cell in row])
    return out.getvalue()


def parse_csv(text: str, name: str = "input") -> tuple[list[str], list[list[str]]]:
    """(header, rows) of CSV text, cells unescaped; DataError naming the file and row on bad CSV.

    No csv field-size trap: a cell may be as long as the whole text, which the upload limit
    (TAGGER_MAX_UPLOAD_BYTES) or the file itself already bounds.
    """
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(min(len(text) + 1, 2**31 - 1))  # process-wide, only ever raised
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append([unescape_cell(cell) for cell in row])
    except csv.Error as exc:
        where = f"row {len(rows) + 1} (line {reader.line_num})"
        raise DataError(f"{name}: {where}: malformed CSV ({exc}); check quoting around that row") from None
    if not rows:
        return [], []
    return rows[0], rows[1:]


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
    name: str | None = None,
) -> Dataset:
    """Read and validate a training CSV; raise DataError listing every bad row (by row number).

    Row numbers are spreadsheet rows: the header is row 1, the first article row 2. `name` is
    what messages call the source (default: the path, or "upload" for bytes).
    """
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), name or "upload"
    elif isinstance(source, str) and not Path(source).exists() and "\n" in source:
        raw, name = source.encode("utf-8"), name or "input"
    else:
        path = Path(source)
        try:
            raw, name = path.read_bytes(), name or str(path)
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
    text = decode(raw, name)
    allowed = list(allowed)
    header_cells, cells = parse_csv(text, name)
    header = [h.strip().lower() for h in header_cells]
    missing = [c for c in ("text", "labels") if c not in header]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; the header must include text,labels "
            f"(found: {', '.join(h for h in header if h) or 'nothing'})"
        )
    columns = Counter(h for h in header if h)  # a Counter: a header of 100k cells stays linear
    repeated = sorted(h for h, n in columns.items() if n > 1)
    if repeated:
        raise DataError(
            f"{name}: column {repeated[0]!r} appears {columns[repeated[0]]} times in the header; "
            f"rename or delete the extra {repeated[0]!r} column so each column name appears once"
        )
    problems: list[str] = []
    warnings: list[str] = []
    texts, label_sets, ids = [], [], []
    seen: dict[str, tuple[int, frozenset[str]]] = {}
    records = [_record(header, row) for row in cells if row]  # csv skips blank lines the same way
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
                f"use only {', '.join(allowed)} joined with '|', or define the new label in a taxonomy file "
                f"(legal-tagger train --taxonomy FILE, POST /train field taxonomy)"
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
    # Label counts too when rows are bad: a person fixes everything in one pass (counts are of the good rows).
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


def _record(header: list[str], row: list[str]) -> dict:
    """A row as {column: cell}, like csv.DictReader: missing cells are '', extra cells under None."""
    record: dict = dict(zip(header, row))
    for name in header[len(row):]:
        record.setdefault(name, "")
    if len(row) > len(header):
        record[None] = row[len(header):]
    return record


# scikit-learn's vectorizers say these when min_df/max_df leave no term, or no text has a token.
NO_TERMS = ("no terms remain", "empty vocabulary", "max_df corresponds to < documents than min_df")


def no_terms_error(dataset: Dataset, params: dict[str, Any]) -> DataError:
    """What to change when the vectorizers find no term: which rows are unusable, which params."""
    blank = [i for i, text in zip(dataset.ids, dataset.texts) if not any(ch.isalnum() for ch in text)]
    per_label = Counter(t for tags in dataset.labels for t in tags)
    problems = []
    if blank:
        shown = ", ".join(blank[:10]) + (f" and {len(blank) - 10} more" if len(blank) > 10 else "")
        problems.append(
            f"{len(blank)} of {len(dataset)} row(s) have no letters or digits, only punctuation or symbols "
            f"(rows {shown}); replace them with the article text or delete them"
        )
    word, char = params.get("word_min_df"), params.get("char_min_df")
    problems.append(
        f"a term is kept only if it appears in at least word_min_df={word} (words) / char_min_df={char} "
        f"(characters) of the {len(dataset)} training rows and in at most 90% of them"
        + (f" (rows per label: {', '.join(f'{k}={v}' for k, v in sorted(per_label.items()))})" if per_label else "")
        + "; set params word_min_df and char_min_df to 1, or add more rows of varied article text"
    )
    return DataError("no words or characters left to train on: " + "; ".join(problems), problems)


@contextmanager
def explained_fit(dataset: Dataset, params: dict[str, Any]) -> Iterator[None]:
    """Turn scikit-learn's "After pruning, no terms remain" into a DataError naming rows and params."""
    try:
        yield
    except ValueError as exc:
        if any(marker in str(exc) for marker in NO_TERMS):
            raise no_terms_error(dataset, params) from None
        raise


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
