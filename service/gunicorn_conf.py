"""gunicorn settings used by `legal-tagger serve`: preload the model, threaded workers, JSON errors.

Why gthread and not sync: a sync worker is held by one connection from its first header byte to
its last body byte, so two clients that send half a request (slow links, or on purpose) blocked
every worker and /healthz with them. A gthread worker waits for a connection's first bytes in its
poller (DEFAULT_WORKER_DATA_TIMEOUT) before giving it a thread, and a client that then stalls
holds one of `threads` threads, not the worker. The per-request time budget (service/budget.py)
works in any thread. A reverse proxy that buffers whole requests (nginx) is still the right front
for the open internet; see README "Deploying".
"""

import json
import os
import shutil
from pathlib import Path

from gunicorn import util
from prometheus_client import multiprocess

from training.config import METRICS_PREFIX, Settings

preload_app = True  # the model and dictionary load once in the master, before the workers fork
worker_class = "gthread"
threads = Settings.from_env().threads  # TAGGER_THREADS; `legal-tagger serve --threads` overrides
timeout = 60  # last resort only: service/budget.py answers 503 long before this
keepalive = 5


def _json_error(sock, status_int, reason, mesg):
    """gunicorn's own error page (bad request line, header too large, 500 after a crash) as our JSON shape."""
    codes = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed", 431: "headers_too_large", 500: "internal", 501: "not_implemented"}
    fixes = {
        414: "the request line is too long; send long input in a POST body, not in the URL",
        431: "the request headers are too large; send fewer or shorter headers",
        500: "internal error; the request was logged",
    }
    message = fixes.get(status_int) or f"the HTTP request could not be read ({reason}: {mesg}); send a well-formed HTTP/1.1 request"
    body = json.dumps({"error": {"code": codes.get(status_int, "error"), "message": message}}, ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


# Every worker class ends in util.write_error for the errors gunicorn answers itself; this file is
# imported by the master before it forks, so every worker inherits the JSON version.
util.write_error = _json_error


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
