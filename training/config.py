"""The one place that owns paths and settings; every value can be overridden by an env var."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]
METRICS_PREFIX = "run-"  # PROMETHEUS_MULTIPROC_DIR/run-<master pid>: one metrics directory per `serve`


def _cpu_workers() -> int:
    # gunicorn's rule of thumb is 2*cores+1; this service is CPU-bound, so one per core.
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Runtime settings; `from_env` reads TAGGER_* variables over these defaults."""

    labels_dir: Path = REPO_ROOT / "labels"
    models_dir: Path = REPO_ROOT / "models"
    data_dir: Path = REPO_ROOT / "var"
    cache_dir: Path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "legal-tagger"
    tokenizer_backend: str = "auto"  # auto | rjieba | jieba
    max_text_chars: int = 100_000
    max_batch: int = 256
    max_body_bytes: int = 8 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = field(default_factory=_cpu_workers)
    # gthread workers (service/gunicorn_conf.py): a stalled client holds one thread, not a worker.
    threads: int = 8
    log_level: str = "info"
    admin_token: str = ""
    read_token: str = ""
    max_upload_bytes: int = 200 * 1024 * 1024
    keep_versions: int = 10
    failed_upload_days: float = 7.0  # uploads of failed jobs are deleted after this; done jobs' stay
    gate_macro_margin: float = 0.0
    gate_label_drop: float = 0.05
    model_reload_seconds: float = 2.0
    # A request that runs longer answers 503 `timeout` (service/budget.py); gunicorn's own worker
    # timeout stays above it as the last resort for a stuck C call.
    request_seconds: float = 20.0

    @property
    def taxonomy_path(self) -> Path:
        return self.labels_dir / "taxonomy.toml"

    @property
    def legal_dict_path(self) -> Path:
        return self.labels_dir / "legal_dict.txt"

    @property
    def corpus_path(self) -> Path:
        return self.labels_dir / "corpus.csv"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from TAGGER_<FIELD> variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"TAGGER_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            default = getattr(cls(), f.name)
            try:
                if isinstance(default, Path):
                    values[f.name] = Path(raw).expanduser()
                elif isinstance(default, bool):
                    values[f.name] = raw.lower() in ("1", "true", "yes", "on")
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                elif isinstance(default, float):
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise ValueError(
                    f"TAGGER_{f.name.upper()}={raw!r} is not a number; set it to e.g. {default}"
                ) from None
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def get_settings() -> Settings:
    """Settings from the current environment."""
    return Settings.from_env()
