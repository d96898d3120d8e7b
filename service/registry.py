"""Model registry: loads the active model once per process and follows activations.

Every worker checks models/active.json at most every `reload_interval` seconds (one stat call)
and swaps in the newly active version; a request keeps the Tagger it started with, so in-flight
requests finish on their model.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from training import artifacts
from training.errors import ModelError
from training.tagger import Tagger
from training.tokenize import warm_up

log = logging.getLogger(__name__)


class ModelRegistry:
    """Holds the active Tagger of this process; `init_app` loads it before the first request."""

    def __init__(self, models_dir: Path, reload_interval: float = 2.0) -> None:
        self.models_dir = Path(models_dir)
        self.reload_interval = reload_interval
        self._tagger: Tagger | None = None
        self._cache: dict[str, Tagger] = {}
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None
        self.error: str | None = None
        self.skipped: dict[str, str] = {}  # versions passed over at the last (re)load, with the reason

    def init_app(self, app: Flask) -> None:
        app.extensions["model_registry"] = self
        removed = artifacts.remove_leftovers(self.models_dir)
        if removed:
            log.warning("removed leftovers of interrupted saves in %s: %s", self.models_dir, ", ".join(removed))
        warm_up()
        try:
            self.refresh(force=True)
        except ModelError as exc:
            # Serve anyway (healthz, labels, docs); /readyz and /classify report the problem.
            self.error = str(exc)
            log.error("no model loaded: %s", exc)

    def _active_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.models_dir / artifacts.ACTIVE_FILE)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def load(self, version: str) -> Tagger:
        """A verified Tagger for a version (cached per process)."""
        tagger = self._cache.get(version)
        if tagger is None:
            pipeline, meta = artifacts.load_model(self.models_dir, version)
            tagger = Tagger(pipeline, meta)
            try:  # builds lazy lookup tables now, not in a request; a model that cannot answer is refused
                tagger.classify(["派出所民警与法院、检察院开展普法宣传。"])
            except Exception as exc:
                raise ModelError(f"model {version} failed its warm-up classification ({exc}); retrain or activate another version") from exc
            self._cache[version] = tagger
            # Keep the active model and the previous one; drop older ones from memory.
            for old in list(self._cache)[:-2]:
                self._cache.pop(old, None)
        return tagger

    def _candidates(self) -> tuple[list[str], str | None]:
        """Versions to try, best first: the active one, the previously active ones (newest first), then every version newest first."""
        state = artifacts.read_active(self.models_dir)
        order = ([state["active"]] if state["active"] else []) + state["history"][::-1] + artifacts.list_versions(self.models_dir)[::-1]
        return list(dict.fromkeys(order)), state.get("error")

    def _load_best(self) -> Tagger:
        """The first candidate that verifies and answers; logs one line when it is not the active one."""
        candidates, pointer_error = self._candidates()
        skipped: dict[str, str] = {artifacts.ACTIVE_FILE: pointer_error} if pointer_error else {}
        for version in candidates:
            if self._tagger is not None and self._tagger.version == version:
                tagger = self._tagger
            else:
                try:
                    tagger = self.load(version)
                except ModelError as exc:
                    skipped[version] = str(exc)
                    continue
            self.skipped = skipped
            if skipped:
                log.error("serving model %s; passed over: %s", version, "; ".join(f"{k}: {v}" for k, v in skipped.items()))
            return tagger
        self.skipped = skipped
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise ModelError(f"no usable model in {self.models_dir} ({reasons or 'none saved'}); train one with `legal-tagger train labels/corpus.csv`")

    def refresh(self, force: bool = False) -> Tagger:
        """Reload if active.json changed since the last look (checked at most every interval)."""
        now = time.monotonic()
        if not force and self._tagger is not None and now - self._checked < self.reload_interval:
            return self._tagger
        with self._lock:
            self._checked = now
            stamp = self._active_stamp()
            if force or stamp != self._stamp or self._tagger is None:
                tagger = self._load_best()
                if self._tagger is None or self._tagger.version != tagger.version:
                    log.info("serving model %s", tagger.version)
                self._tagger = tagger
                self._stamp = stamp
                self.error = "; ".join(f"{k}: {v}" for k, v in self.skipped.items()) or None
        return self._tagger

    def get(self) -> Tagger:
        """The Tagger to use for this request; raises ModelError if none can be loaded."""
        try:
            return self.refresh()
        except ModelError as exc:
            self.error = str(exc)
            if self._tagger is not None:  # keep serving the model we have
                log.error("model refresh failed, keeping %s: %s", self._tagger.version, exc)
                return self._tagger
            raise


    def version_or_none(self) -> str | None:
        """The version being served, or None when no model can be loaded (never raises)."""
        try:
            return self.get().version
        except ModelError:
            return None


def get_registry() -> ModelRegistry:
    """The registry of the current app."""
    return current_app.extensions["model_registry"]


def current_tagger() -> Tagger:
    """The active model for the current request."""
    return get_registry().get()
