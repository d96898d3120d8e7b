"""The one place batch workers get a model: loaded once per process, keyed by dir + version + sha256."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_cache: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """What a worker needs to load the same model as the driver (small: safe to ship to executors)."""

    models_dir: str
    version: str
    sha256: str


def fingerprint(meta: dict) -> str:
    """One checksum for a version: the sha256 of every file model.json lists (format 2), or its one file (format 1)."""
    import hashlib

    files = meta.get("files")
    if isinstance(files, dict) and files:
        joined = "\n".join(f"{name}:{entry.get('sha256', '') if isinstance(entry, dict) else ''}" for name, entry in sorted(files.items()))
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()
    return str(meta.get("file", {}).get("sha256", ""))


def model_ref(models_dir: str | Path, version: str | None = None) -> ModelRef:
    """Resolve the active (or given) version and its checksum without loading the model."""
    from training import artifacts

    version = version or artifacts.active_version(Path(models_dir))
    meta = artifacts.read_meta(Path(models_dir), version)
    return ModelRef(str(models_dir), version, fingerprint(meta))


def model_labels(ref: ModelRef) -> list[str]:
    """The model's labels in score order, from its metadata (the driver never unpickles the model)."""
    from training import artifacts

    return [str(x) for x in artifacts.read_meta(Path(ref.models_dir), ref.version).get("labels", [])]


def load_tagger(models_dir: str | Path, version: str | None = None) -> Any:
    """A verified Tagger (the registry checks the checksum and runs a warm-up classification)."""
    from service.registry import ModelRegistry
    from training import artifacts

    version = version or artifacts.active_version(Path(models_dir))
    return ModelRegistry(Path(models_dir)).load(version)


def cached_tagger(ref: ModelRef) -> Any:
    """The Tagger of `ref`, loaded at most once per process (never pickled per row or per task)."""
    key = (ref.models_dir, ref.version, ref.sha256)
    tagger = _cache.get(key)
    if tagger is None:
        with _lock:
            tagger = _cache.get(key)
            if tagger is None:
                # One BLAS/OpenMP thread per worker: the engines already run one worker per core.
                from threadpoolctl import threadpool_limits

                threadpool_limits(1)
                tagger = load_tagger(ref.models_dir, ref.version)
                found = fingerprint(tagger.meta)
                if found != ref.sha256:
                    from training.errors import ModelError

                    raise ModelError(f"model {ref.version} in {ref.models_dir} changed during the run (sha256 {found[:12]} != {ref.sha256[:12]}); rerun the batch")
                _cache.clear()  # one model per worker process is enough
                _cache[key] = tagger
    return tagger
