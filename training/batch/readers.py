"""Input files of a batch run and the local engine's reader: (position, payload) in file order.

Positions are 0-based over all input records (a JSONL line, a CSV data row, a Parquet row),
counting files in sorted path order; blank JSONL lines take a position but produce nothing.
The Spark engine numbers records the same way (training/batch/spark.py).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterator

from training.data import decode
from training.errors import DataError

from .records import Unreadable

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


def input_files(path: Path) -> tuple[str, list[Path]]:
    """(format, files) of a file or a directory of files of one format; hidden files are skipped."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not any(part[:1] in "._" for part in p.relative_to(path).parts))
    else:
        raise DataError(f"{path}: no such file or directory")
    kinds = {FORMATS.get(p.suffix.lower()) for p in files}
    if not files:
        raise DataError(f"{path}: no input files; give .jsonl, .csv or .parquet files")
    if None in kinds:
        odd = next(p for p in files if p.suffix.lower() not in FORMATS)
        raise DataError(f"{odd}: unknown input type {odd.suffix or '(no extension)'}; use .jsonl, .csv or .parquet")
    if len(kinds) > 1:
        raise DataError(f"{path}: mixes {', '.join(sorted(kinds))} files; put one format in a directory")
    return kinds.pop(), files


def iter_jsonl(path: Path) -> Iterator[str]:
    """Lines split on \\n only (Spark's text source does the same), decoded as UTF-8."""
    with open(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\n").decode("utf-8", errors="replace")


def iter_csv(path: Path) -> Iterator[str | dict]:
    """Data rows of a CSV (UTF-8, UTF-8 BOM or GB18030, header names lower-cased, as in training)."""
    text = decode(path.read_bytes(), str(path))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in next(reader, [])]
    if "text" not in header:
        raise DataError(f"{path}: no 'text' column in the header (found: {', '.join(h for h in header if h) or 'nothing'})")
    try:
        for cells in reader:
            if len(cells) > len(header):
                yield Unreadable("more cells than header columns; quote cells that contain commas")
                continue
            yield {name: cell for name, cell in zip(header, cells) if name}
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc}); check quoting") from None


def iter_parquet(path: Path, batch_rows: int = 4096) -> Iterator[dict]:
    """Rows of a Parquet file as dicts (pyarrow, one record batch at a time)."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        yield from batch.to_pylist()


def iter_records(fmt: str, files: list[Path], start: int = 0) -> Iterator[tuple[int, str | dict]]:
    """(position, payload) of every record of the files, in order."""
    read = {"jsonl": iter_jsonl, "csv": iter_csv, "parquet": iter_parquet}[fmt]
    position = start
    for path in files:
        for payload in read(path):
            yield position, payload
            position += 1
