"""gunicorn settings used by `legal-tagger serve`: preload the model, tidy multiprocess metrics."""

from prometheus_client import multiprocess

preload_app = True  # the model and dictionary load once in the master, before the workers fork
worker_class = "sync"  # CPU-bound requests: sync workers measured faster than gthread here
timeout = 60


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics directory."""
    multiprocess.mark_process_dead(worker.pid)
