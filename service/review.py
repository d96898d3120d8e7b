"""Recent classified texts, for uncertainty sampling (GET /review): buffered off the hot path."""

from __future__ import annotations

import json
import threading
import time

from training.store import Store, text_sha

FLUSH_ITEMS = 64
FLUSH_SECONDS = 2.0
MAX_BUFFER = 1000  # a sample for review, not an audit log: under overload keep the newest


class ReviewLog:
    """Collects (text, scores, margin) per classified text; writes them to SQLite in batches."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._buffer: list[tuple] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._flushing = False

    def add(self, texts, results, thresholds: dict[str, float], model: str) -> None:
        now = time.time()
        rows = []
        for text, result in zip(texts, results):
            # Distance of the closest score to its label's threshold: small = the model was unsure.
            margin = min(abs(result.scores[label] - thresholds[label]) for label in thresholds)
            rows.append((text_sha(text), text[:20000], json.dumps(result.scores), "|".join(result.labels), margin, model, now))
        with self._lock:
            self._buffer.extend(rows)
            del self._buffer[:-MAX_BUFFER]
            due = len(self._buffer) >= FLUSH_ITEMS or time.monotonic() - self._last_flush >= FLUSH_SECONDS
            start = due and not self._flushing
            if start:
                self._flushing = True
        if start:
            # Write in the background: a request must not wait for SQLite (it showed in p99).
            threading.Thread(target=self._background_flush, name="review-flush", daemon=True).start()

    def _background_flush(self) -> None:
        try:
            self.flush()
        finally:
            self._flushing = False

    def flush(self) -> None:
        with self._lock:
            rows, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        if rows:
            self.store.add_classified(rows)
