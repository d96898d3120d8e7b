"""gunicorn settings used by `legal-tagger serve`: preload the model, tidy multiprocess metrics."""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

from training.config import METRICS_PREFIX

preload_app = True  # the model and dictionary load once in the master, before the workers fork
worker_class = "sync"  # CPU-bound requests: sync workers measured faster than gthread here
timeout = 60


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_metrics(current: Path) -> list[Path]:
    """Delete the metrics directories of servers that are gone (siblings of `current`, run-<pid>)."""
    removed = []
    if not current.name.startswith(METRICS_PREFIX) or not current.parent.is_dir():
        return removed
    for path in current.parent.iterdir():
        pid = path.name[len(METRICS_PREFIX):]
        if path != current and path.name.startswith(METRICS_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def when_ready(server):
    """Bound and serving: only now clear the metrics of earlier (dead) servers."""
    remove_stale_metrics(Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics directory."""
    multiprocess.mark_process_dead(worker.pid)
