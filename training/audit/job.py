"""POST /audit as a background job: the same job records as training (poll GET /jobs/<id>)."""

from __future__ import annotations

import fcntl
import logging
import threading
from typing import Any

from ..config import Settings
from ..errors import DataError, TaggerError
from ..store import DataDirError, Store, data_dir_error

log = logging.getLogger(__name__)
TOP = 200  # findings kept in the job record (the HTML report shows the same)


def submit_audit(store: Store, settings: Settings, raw: bytes, options: dict[str, Any]) -> str:
    """Record an audit job and run it in a background thread; the job id."""
    from ..jobs import upload_path

    job_id = store.create_job(options)
    path = upload_path(settings, job_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    except OSError as exc:
        path.unlink(missing_ok=True)
        error = data_dir_error(settings.data_dir, exc)
        store.update_job(job_id, state="failed", message=f"the upload could not be saved: {error}; submit it again"[:500])
        raise DataDirError(f"job {job_id} failed: {error}") from None
    threading.Thread(target=run_audit, args=(store, job_id, settings, raw, options), name=f"audit-{job_id}", daemon=True).start()
    return job_id


def run_audit(store: Store, job_id: str, settings: Settings, raw: bytes, options: dict[str, Any]) -> None:
    """Run one audit to a terminal state; never raises. Shares the training lock: one heavy job at a time."""
    from ..jobs import report_path
    from . import audit_rows, read_rows
    from .html import render_audit_section

    lock_path = settings.data_dir / "train.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            store.update_job(job_id, state="validating", progress=0.05, message="reading the rows")
            data, rows, warnings = read_rows(raw, "upload")
            if not len(data):
                raise DataError("upload: no rows with text; the header must include text,labels")
            folds = int(options.get("folds", 5))
            store.update_job(job_id, state="evaluating", progress=0.1, message=f"{folds}-fold cross-validation on {len(data)} rows")
            result = audit_rows(data, rows, folds=folds, params=options.get("params"),
                                progress=lambda i, n: store.update_job(job_id, progress=round(0.1 + 0.85 * i / n, 3)))
            report = {**result.to_dict(top=TOP), "total": len(result.findings)}
            report["warnings"] = warnings + report["warnings"]
            path = report_path(settings, job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            section = render_audit_section({**report, "findings": report["findings"]}, {})
            path.write_text(f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>数据审查 {job_id}</title></head><body>{section}</body></html>',
                            encoding="utf-8")
            store.update_job(job_id, state="done", progress=1.0, report=report,
                             message=f"{len(result.findings)} finding(s) in {len(data)} rows")
    except DataError as exc:
        store.update_job(job_id, state="failed", message=str(exc)[:500], errors=exc.problems[:200])
    except (TaggerError, ValueError, OSError) as exc:
        store.update_job(job_id, state="failed", message=str(exc)[:500])
    except Exception as exc:  # a bug: record it rather than leave the job running forever
        log.exception("audit job %s crashed", job_id)
        store.update_job(job_id, state="failed", message=f"internal error: {type(exc).__name__}: {exc}"[:500])
