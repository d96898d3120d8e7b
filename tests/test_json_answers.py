"""JSON answers of the service: timestamps ISO-8601 UTC, scores and margins to 4 decimals (issue 17 §4)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from training.config import Settings
from training.jsonout import iso_utc
from training.store import Store

TOKEN = "json-answers-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture()
def admin(models_dir, tmp_path):
    from service import create_app

    settings = Settings(models_dir=models_dir, data_dir=tmp_path / "var", admin_token=TOKEN)
    return create_app({"TESTING": True, "TAGGER": settings}).test_client(), settings


def _decimals(x: float) -> int:
    return len(repr(x).split(".")[1]) if "." in repr(x) and "e" not in repr(x) else 0


def test_iso_utc():
    assert iso_utc(0) == "1970-01-01T00:00:00Z" and iso_utc(None) is None
    assert datetime.fromisoformat(iso_utc(1_780_000_000.7).replace("Z", "+00:00")).timestamp() == 1_780_000_000


def test_jobs_answer_iso_utc_timestamps(admin):
    client, settings = admin
    client.get("/healthz")  # the app creates its store
    store = Store(settings.data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    store.update_job(job_id, state="validating")
    store.update_job(job_id, state="failed", message="bad rows")
    job = client.get(f"/jobs/{job_id}", headers=AUTH).get_json()
    assert all(ISO_UTC.match(job[key]) for key in ("created", "started", "finished")), job
    listed = client.get("/jobs", headers=AUTH).get_json()["jobs"]
    assert listed[0]["id"] == job_id and ISO_UTC.match(listed[0]["created"])


def test_review_rounds_scores_and_margins_and_dates_in_utc(admin):
    client, _ = admin
    client.post("/classify", json={"texts": ["派出所民警抓获盗窃嫌疑人", "今天天气晴朗", "检察院对嫌疑人批准逮捕"]})
    items = client.get("/review?n=3", headers=AUTH).get_json()["items"]
    assert items
    for item in items:
        assert ISO_UTC.match(item["created"]) and _decimals(item["margin"]) <= 4
        assert all(_decimals(v) <= 4 for v in item["scores"].values())
