"""The one place that owns paths and settings; every value can be overridden by an env var."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Mapping

from .errors import ReadOnlyModelsDir

REPO_ROOT = Path(__file__).resolve().parents[1]
METRICS_PREFIX = "run-"  # PROMETHEUS_MULTIPROC_DIR/run-<master pid>: one metrics directory per `serve`


def in_checkout() -> bool:
    """True when this code runs from a source checkout (labels/ and models/ beside training/)."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "labels").is_dir()


def shipped_dir(name: str) -> Path:
    """Where the wheel's copy of labels/ or models/ lies (setup.py maps them into training._shipped)."""
    # An installed wheel is unpacked on disk, so the Traversable is a real path.
    return Path(str(resources.files("training").joinpath("_shipped", name)))


def _default_dir(name: str) -> Path:
    # A checkout uses its own labels/ and models/; an installed wheel uses the copies it ships.
    return REPO_ROOT / name if in_checkout() else shipped_dir(name)


def _default_data_dir() -> Path:
    # Runtime data never goes into site-packages: var/ in a checkout, else the XDG data home.
    if in_checkout():
        return REPO_ROOT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "legal-tagger"


def _cpu_workers() -> int:
    # gunicorn's rule of thumb is 2*cores+1; this service is CPU-bound, so one per core.
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Runtime settings; `from_env` reads TAGGER_* variables over these defaults."""

    labels_dir: Path = field(default_factory=lambda: _default_dir("labels"))
    models_dir: Path = field(default_factory=lambda: _default_dir("models"))
    data_dir: Path = field(default_factory=_default_data_dir)
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
    def evidence_stoplist_path(self) -> Path:
        return self.labels_dir / "evidence_stoplist.txt"

    @property
    def corpus_path(self) -> Path:
        return self.labels_dir / "corpus.csv"

    def writable_models_dir(self) -> Path:
        """models_dir for writing; the installed wheel's shipped models are never written to."""
        if not in_checkout() and self.models_dir.resolve() == shipped_dir("models").resolve():
            # A pip upgrade or uninstall would delete anything trained into site-packages.
            raise ReadOnlyModelsDir(
                f"{self.models_dir} holds the installed package's shipped models and is read-only; "
                "pass --out DIR or set TAGGER_MODELS_DIR=DIR (e.g. ~/.local/share/legal-tagger/models)"
            )
        return self.models_dir

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
