"""Output of a batch run: columns, part files written atomically, errors, manifest, _SUCCESS."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from training.errors import DataError

SUCCESS = "_SUCCESS"
ERRORS = "_errors"
MANIFEST = "_batch.json"
SPLIT_COLUMNS = (("page_id", "string"), ("article_index", "int"), ("start", "int"), ("end", "int"))


def columns(labels: list[str], split: bool) -> list[tuple[str, str]]:
    """(name, type) of every output column in order; types: string, long, int, double, strings."""
    cols = [("id", "string"), ("position", "long")]
    if split:
        cols += list(SPLIT_COLUMNS)
    cols += [("title", "string"), ("labels", "strings")]
    cols += [(f"score_{label}", "double") for label in labels]
    cols += [("model", "string"), ("extra", "string")]
    return cols


def arrow_schema(labels: list[str], split: bool):
    """The Parquet schema of the output (the same columns the Spark engine writes)."""
    import pyarrow as pa

    types = {"string": pa.string(), "long": pa.int64(), "int": pa.int32(), "double": pa.float64(), "strings": pa.list_(pa.string())}
    return pa.schema([(name, types[kind]) for name, kind in columns(labels, split)])


def flat(row: dict, labels: list[str]) -> dict:
    """A row with one score_<label> column per label (Parquet layout)."""
    out = {k: v for k, v in row.items() if k != "scores"}
    out.update({f"score_{label}": row["scores"][label] for label in labels})
    return out


def jsonl_record(row: dict, labels: list[str], split: bool) -> dict:
    """A row in the JSONL layout: the same fields, scores as one object, in column order."""
    names = [n for n, _ in columns(labels, split) if not n.startswith("score_")]
    out = {n: row.get(n) for n in names if n != "model"}
    out["scores"] = {label: row["scores"][label] for label in labels}
    out["model"] = row["model"]
    out["extra"] = row.get("extra")
    return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write) -> None:
    """Write through a hidden temp name, fsync, rename: a reader sees the whole file or none."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def write_part(out: Path, index: int, rows: list[dict], errors: list[dict], labels: list[str], fmt: str, split: bool) -> Path:
    """Errors first, then the part file: a part file on disk means its whole partition is done."""
    if errors:
        (out / ERRORS).mkdir(exist_ok=True)
        write_atomic(out / ERRORS / f"part-{index:05d}.jsonl", lambda fh: fh.write(_jsonl(errors)))
    path = out / f"part-{index:05d}.{fmt}"
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = arrow_schema(labels, split)
        table = pa.Table.from_pylist([flat(r, labels) for r in rows], schema=schema)
        write_atomic(path, lambda fh: pq.write_table(table, fh, compression="zstd"))
    else:
        write_atomic(path, lambda fh: fh.write(_jsonl(jsonl_record(r, labels, split) for r in rows)))
    return path


def _jsonl(records: Iterable[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def finished_parts(out: Path, fmt: str) -> set[int]:
    """Indices of part files already written completely (temp files never carry the final name)."""
    done = set()
    for path in out.glob(f"part-*.{fmt}"):
        try:
            done.add(int(path.name[5:].split(".")[0]))
        except ValueError:
            continue
    return done


def remove_temp_files(out: Path) -> None:
    """Leftovers of a killed run (hidden .part-*.tmp files): never finished, always redone."""
    for path in [*out.glob(".*.tmp"), *out.glob(f"{ERRORS}/.*.tmp")]:
        path.unlink(missing_ok=True)


def prepare_output(out: Path, manifest: dict, resume: bool) -> bool:
    """Create OUTPUT or check a resumable one; True when the run already finished."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a directory; give a directory for the output")
    if out.is_dir() and any(out.iterdir()):
        if not resume:
            raise DataError(f"{out}: not empty; pass --resume to continue that run, or give a new directory")
        try:
            previous = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise DataError(f"{out}: has no readable {MANIFEST}, so it is not a batch output to resume; give a new directory") from None
        for key, value in manifest.items():
            if previous.get(key) != value:
                raise DataError(f"{out}: was started with {key}={previous.get(key)!r}, now {value!r}; rerun with the same settings or a new directory")
        return (out / SUCCESS).exists()
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MANIFEST, lambda fh: fh.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")))
    return False


def mark_success(out: Path, summary: dict[str, Any]) -> None:
    """_SUCCESS last: it holds the run's summary as JSON."""
    write_atomic(Path(out) / SUCCESS, lambda fh: fh.write(json.dumps(summary, ensure_ascii=False, indent=1).encode("utf-8")))
