"""A batch run's settings, its progress line and its summary; `run` picks the engine."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass
class Job:
    """Everything a batch run needs; engines read it, never the command line."""

    input: str | Path  # a path, or for Spark any URI it reads (hdfs://…)
    output: str | Path
    models_dir: Path
    version: str | None = None
    engine: str = "local"
    fmt: str = "parquet"
    split: bool = False
    resume: bool = False
    workers: int | None = None
    master: str | None = None
    max_chars: int = 100_000
    part_rows: int = 10_000
    quiet: bool = False


@dataclass
class Summary:
    """Counts of a run: records read, articles tagged, records rejected, per-label counts."""

    read: int = 0
    tagged: int = 0
    rejected: int = 0
    per_label: Counter = field(default_factory=Counter)
    skipped_parts: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def add(self, read: int, rows: list[dict], errors: list[dict]) -> None:
        self.read += read
        self.tagged += len(rows)
        self.rejected += len(errors)
        for row in rows:
            self.per_label.update(row["labels"])

    def finish(self) -> "Summary":
        self.seconds = time.monotonic() - self.started
        return self

    @property
    def rate(self) -> float:
        return self.tagged / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self, labels: list[str], model: str, engine: str) -> dict[str, Any]:
        return {
            "engine": engine, "model": model, "rows_read": self.read, "tagged": self.tagged, "rejected": self.rejected,
            "per_label": {label: self.per_label.get(label, 0) for label in labels},
            "skipped_parts": self.skipped_parts, "seconds": round(self.seconds, 3), "articles_per_s": round(self.rate, 1),
        }

    def lines(self, labels: list[str]) -> list[str]:
        return [
            f"rows read {self.read}, tagged {self.tagged} articles, rejected {self.rejected}"
            + (f", {self.skipped_parts} finished part(s) skipped (--resume)" if self.skipped_parts else ""),
            "per label: " + ", ".join(f"{label}={self.per_label.get(label, 0)}" for label in labels),
            f"time {self.seconds:.1f} s, {self.rate:.0f} articles/s",
        ]


class Progress:
    """Rows and articles/s on stderr: redrawn in place on a terminal, a line every 10 s otherwise."""

    def __init__(self, quiet: bool, total_bytes: int = 0, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = self.last = time.monotonic()
        self.total_bytes = total_bytes

    def update(self, summary: Summary, done_bytes: int = 0, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self.last < (0.5 if self.tty else 10.0):
            return
        self.last = now
        rate = summary.tagged / max(now - self.start, 1e-9)
        pct = f" {100 * done_bytes / self.total_bytes:3.0f}%" if self.total_bytes and done_bytes else ""
        text = f"batch{pct} rows {summary.read} tagged {summary.tagged} rejected {summary.rejected} {rate:.0f} articles/s"
        self.stream.write(("\r" + text + "\033[K") if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.quiet and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run(job: Job) -> tuple[Summary, list[str], str]:
    """Run a batch job with its engine: (summary, labels, model version)."""
    if job.engine == "spark":
        from .spark import run_spark

        return run_spark(job)
    from .local import run_local

    return run_local(job)
