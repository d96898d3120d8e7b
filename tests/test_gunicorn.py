"""A real multi-worker gunicorn server follows an activation in every worker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from training import artifacts
from training.config import REPO_ROOT

TOKEN = "gunicorn-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def server(models_dir, tmp_path, tiny_model):
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    artifacts.save_model(tiny_model[0], {"thresholds": tiny_model[1]["thresholds"]}, root, "tiny-2")
    port = free_port()
    env = {**os.environ, "TAGGER_MODELS_DIR": str(root), "TAGGER_DATA_DIR": str(tmp_path / "var"), "TAGGER_ADMIN_TOKEN": TOKEN,
           "TAGGER_MODEL_RELOAD_SECONDS": "0.5", "TAGGER_LOG_LEVEL": "warning", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    (tmp_path / "prom").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf", "--workers", "2", "--bind", f"127.0.0.1:{port}", "service.wsgi:app"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


def sample(url: str, n: int = 40) -> list[tuple[int, str]]:
    """(worker pid, model) from n concurrent readiness probes."""
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: requests.get(url + "/readyz", timeout=5).json(), range(n)))
    return [(r["pid"], r["model"]) for r in replies]


def test_activation_reaches_every_worker(server):
    before = sample(server)
    workers = {pid for pid, _ in before}
    assert {model for _, model in before} == {"tiny-1"}
    response = requests.post(server + "/models/tiny-2/activate", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200
    time.sleep(1.5)  # the reload interval is 0.5 s
    # The first requests after the interval load the new version; other threads keep answering
    # with the old one until it is ready (never an error). After that, every answer is the new one.
    sample(server, 40)
    after = sample(server, 80)
    assert {model for _, model in after} == {"tiny-2"}, after
    assert len(workers | {pid for pid, _ in after}) == 2  # both workers answered at some point
