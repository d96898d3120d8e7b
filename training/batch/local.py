"""The local engine: one reader, a process pool of taggers (model loaded once per worker), one writer.

Records are cut into partitions of `part_rows` input positions (part k holds positions
[k*part_rows, (k+1)*part_rows)), so the partitioning depends only on the input: `--resume`
skips the parts already on disk and redoes the rest exactly.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from . import output
from .job import Job, Progress, Summary
from .model import ModelRef, cached_tagger, model_labels, model_ref
from .readers import input_files, iter_records
from .records import Options, process

TASK_ROWS = 256  # records per task sent to a worker: big enough to amortize pickling, small for balance

_worker: dict[str, Any] = {}


def _init_worker(ref: ModelRef, options: Options, driver: int | None = None) -> None:
    """Pool initializer: load the model once in this worker process."""
    if driver is not None:
        threading.Thread(target=_exit_with, args=(driver,), daemon=True).start()
    _worker["tagger"] = cached_tagger(ref)
    _worker["options"] = options


def _exit_with(driver: int) -> None:
    """A killed driver (SIGKILL, SIGTERM) cannot stop its pool: each worker leaves when it is gone."""
    while True:
        time.sleep(2)
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _task(raws: list) -> tuple[int, list[dict], list[dict]]:
    rows, errors = process(raws, _worker["tagger"], _worker["options"])
    return len(raws), rows, errors


class _Inline:
    """workers=1: tag in this process (no pool, no pickling), with a Future-like result."""

    def __init__(self, ref: ModelRef, options: Options):
        _init_worker(ref, options)

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, **_: Any) -> None:
        pass


def manifest(job: Job, ref: ModelRef, fmt_in: str, files: list[Path]) -> dict:
    """Settings a resumed run must share with the first one."""
    return {
        "engine": job.engine, "format": job.fmt, "split": job.split, "part_rows": job.part_rows,
        "max_chars": job.max_chars, "model": ref.version, "model_sha256": ref.sha256, "input_format": fmt_in,
        "input": [[str(p.resolve()), p.stat().st_size] for p in files],
    }


def run_local(job: Job) -> tuple[Summary, list[str], str]:
    """Tag job.input into job.output with a process pool; returns (summary, labels, model)."""
    ref = model_ref(job.models_dir, job.version)
    fmt_in, files = input_files(Path(job.input))
    options = Options(split=job.split, max_chars=job.max_chars)
    out = Path(job.output)
    summary = Summary()
    if output.prepare_output(out, manifest(job, ref, fmt_in, files), job.resume):
        return summary.finish(), model_labels(ref), ref.version
    output.remove_temp_files(out)
    done = output.finished_parts(out, job.fmt) if job.resume else set()
    workers = max(1, job.workers or os.cpu_count() or 1)
    if workers == 1:
        pool: Any = _Inline(ref, options)
    else:
        # forkserver: workers start clean (no copied driver state, no forked locks) and load the model once.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                   initializer=_init_worker, initargs=(ref, options, os.getpid()))
    labels = model_labels(ref)
    progress = Progress(job.quiet)
    pending: deque = deque()  # (part, future) in input order; future None marks the end of a part
    collected: dict[int, tuple[list, list]] = {}
    window = 3 * workers

    def drain_one() -> None:
        part, future = pending.popleft()
        rows, errors = collected.setdefault(part, ([], []))
        if future is None:
            output.write_part(out, part, rows, errors, labels, job.fmt, job.split)
            del collected[part]
            return
        read, new_rows, new_errors = future.result()
        rows += new_rows
        errors += new_errors
        summary.add(read, new_rows, new_errors)
        progress.update(summary)

    try:
        records = iter_records(fmt_in, files)
        for part, group in itertools.groupby(records, key=lambda r: r[0] // job.part_rows):
            if part in done:
                summary.skipped_parts += 1
                for _ in group:
                    pass
                continue
            while True:
                chunk = list(itertools.islice(group, TASK_ROWS))
                if not chunk:
                    break
                while len(pending) >= window:
                    drain_one()
                pending.append((part, pool.submit(_task, chunk)))
            pending.append((part, None))
        while pending:
            drain_one()
    finally:
        pool.shutdown(cancel_futures=True)
    progress.update(summary, force=True)
    progress.close()
    summary.finish()
    output.mark_success(out, summary.to_dict(labels, ref.version, "local"))
    return summary, labels, ref.version

