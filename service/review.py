"""Recent classified texts, for uncertainty sampling (GET /review): buffered off the hot path."""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time

from training.store import DataDirError, Store, text_sha

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
MAX_BUFFER = 1000  # a sample for review, not an audit log: under overload keep the newest
KEEP_PER_FLUSH = 64  # of each flush window, only the least certain texts are worth a person's time


class ReviewLog:
    """Collects (margin, text, scores) per classified text; writes the least certain to SQLite.

    A request only computes each text's margin and appends to a list. Every FLUSH_SECONDS a
    background thread writes the KEEP_PER_FLUSH texts of the window that sat closest to a
    threshold: at a few requests a second that is all of them; under load, writing every text
    cost the workers more CPU than the uncertain sample is worth.
    """

    def __init__(self, store: Store | None) -> None:
        self.store = store  # None: the data directory is unavailable, texts are not kept
        self._buffer: list[tuple] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._flushing = False

    def add(self, texts, results, thresholds: dict[str, float], model: str) -> None:
        if self.store is None or self.store.read_only:
            return
        now = time.time()
        # Distance of the closest score to its label's threshold: small = the model was unsure.
        rows = [
            (min(abs(result.scores[label] - cut) for label, cut in thresholds.items()), now, text, result, model)
            for text, result in zip(texts, results)
        ]
        with self._lock:
            self._buffer.extend(rows)
            if len(self._buffer) > MAX_BUFFER:
                del self._buffer[:-MAX_BUFFER]
            start = not self._flushing and (
                time.monotonic() - self._last_flush >= FLUSH_SECONDS or len(self._buffer) >= MAX_BUFFER
            )
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
        """Write the least certain texts of the buffer (all of them when few) and empty it."""
        with self._lock:
            rows, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        if len(rows) > KEEP_PER_FLUSH:
            keep = heapq.nsmallest(KEEP_PER_FLUSH, range(len(rows)), key=lambda i: rows[i][0])
            rows = [rows[i] for i in sorted(keep)]  # in arrival order, so newer texts get larger ids
        if rows and self.store is not None:
            try:
                self.store.add_classified([
                    (text_sha(text), text[:20000], json.dumps(result.scores), "|".join(result.labels), margin, model, created)
                    for margin, created, text, result, model in rows
                ])
            except DataDirError as exc:  # a sample for review: losing it must not fail /classify or /review
                log.warning("review sample of %d text(s) not stored: %s", len(rows), exc)
