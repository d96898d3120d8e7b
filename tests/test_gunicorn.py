"""A real multi-worker gunicorn server follows an activation in every worker."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from training import artifacts

from conftest import LiveServer

TOKEN = "gunicorn-test-token"


@pytest.fixture()
def server(models_dir, tmp_path, tiny_model):
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    artifacts.save_model(tiny_model[0], {"thresholds": tiny_model[1]["thresholds"]}, root, "tiny-2")
    live = LiveServer(root, tmp_path, TAGGER_ADMIN_TOKEN=TOKEN, TAGGER_MODEL_RELOAD_SECONDS="0.5").wait_ready()
    yield live.url
    live.stop()


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
