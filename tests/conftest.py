"""Shared fixtures: a tiny model trained once per session, the app, a client, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from training import artifacts, pipeline
from training.config import REPO_ROOT, Settings
from training.data import read_csv
from training.taxonomy import label_ids

DATA = Path(__file__).parent / "data"
SHARED = REPO_ROOT.parent / "shared"
TINY_PARAMS = {"cv": 3, "word_min_df": 1, "char_min_df": 1}


@pytest.fixture(scope="session")
def labels() -> list[str]:
    return label_ids(Settings().taxonomy_path)


@pytest.fixture(scope="session")
def tiny_dataset(labels):
    return read_csv(DATA / "tiny.csv", labels)


@pytest.fixture(scope="session")
def tiny_model(tiny_dataset, labels):
    """(fitted pipeline, fit info) of the tiny corpus."""
    return pipeline.fit(tiny_dataset, labels, TINY_PARAMS)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, tiny_model, tiny_dataset, labels) -> Path:
    """A models directory holding one active tiny model (never the repo's models/)."""
    root = tmp_path_factory.mktemp("models")
    pipe, info = tiny_model
    meta = {"labels": labels, "thresholds": info["thresholds"], "params": info["params"], "metrics": {},
            "training": {"rows": len(tiny_dataset), "sha256": tiny_dataset.sha256}}
    path = artifacts.save_model(pipe, meta, root, "tiny-1")
    artifacts.set_active(root, path.name)
    return root


@pytest.fixture()
def settings(models_dir, tmp_path) -> Settings:
    return Settings(models_dir=models_dir, data_dir=tmp_path / "var", max_batch=8, max_text_chars=5000, max_body_bytes=64 * 1024)


@pytest.fixture()
def app(settings):
    from service import create_app

    return create_app({"TESTING": True, "TAGGER": settings})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(models_dir, monkeypatch):
    """A click runner whose CLI sees the tiny models directory."""
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(models_dir))
    return CliRunner()


def shared_or_skip(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared (third-party gold data) is not beside this checkout")
    return path


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60, proc=None) -> bool:
    """True once url/readyz answers 200 (False after `timeout` s, or as soon as `proc` exits)."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if requests.get(url + "/readyz", timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


class LiveServer:
    """A real gunicorn server (our gunicorn_conf) on loopback, started by a test and stopped after it."""

    def __init__(self, models_dir: Path, tmp: Path, workers: int = 2, **env: str) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (tmp / "prom").mkdir(exist_ok=True)
        full_env = {**os.environ, "TAGGER_MODELS_DIR": str(models_dir), "TAGGER_DATA_DIR": str(tmp / "var"),
                    "TAGGER_LOG_LEVEL": "warning", "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom"), **env}
        self.log = open(tmp / "gunicorn.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", "service.wsgi:app"],
            cwd=REPO_ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> "LiveServer":
        if not wait_ready(self.url, timeout, self.proc):
            self.stop()
            pytest.fail("gunicorn did not start; see " + self.log.name)
        return self

    def stop(self) -> None:
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001 - a server that will not stop is killed
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
