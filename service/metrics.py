"""Prometheus metrics: requests and latency by endpoint and status, texts per label, model version.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (the `serve` command does) so /metrics adds up
every worker, not just the one that answered.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess,
)

REQUESTS = Counter("tagger_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "tagger_request_seconds", "HTTP request latency", ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
TEXTS = Counter("tagger_texts_classified_total", "Texts classified")
LABELS = Counter("tagger_labels_assigned_total", "Texts given each label", ["label"])
MODEL = Gauge("tagger_model_info", "Model version served (value 1)", ["version"], multiprocess_mode="liveall")


def record_classification(results) -> None:
    """Count texts and assigned labels of one classify call."""
    TEXTS.inc(len(results))
    for result in results:
        for label in result.labels:
            LABELS.labels(label).inc()


def init_app(app: Flask) -> None:
    """Time every request and expose GET /metrics."""

    @app.before_request
    def _start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(elapsed)
        if g.get("model_version"):
            MODEL.labels(g.model_version).set(1)
        return response

    @app.get("/metrics")
    @app.doc(hide=True)
    def metrics():
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
